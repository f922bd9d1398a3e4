"""Cycles, cycle phases, and putting test cases into a phase and assigning them
(docs/servers/zephyr.md §5.4–§5.5).

Executions (RTS) come to exist when test cases are *assigned* (``POST /assignmenttree/{id}/
assign`` or ``POST
/execution/modify``, docs/servers/zephyr.md §5.5 step 2), not when they are added to a phase: a
client that adds but never assigns lists no executions.
"""

from __future__ import annotations

from typing import Any

from .base import Resources
from .protocol import ApiError, Request, Response, as_int, json_response, parse_us_date
from .state import Cycle, Folder, Phase, Tct, User
from .views import cycle_view, execution_view, phase_view

__all__ = ["PlanningResources"]


def _dates(
    body: dict[str, Any], ms_keys: tuple[str, str], text_keys: tuple[str, str]
) -> list[int | None]:
    """Start and end: ``MM/dd/yyyy`` strings (docs/servers/zephyr.md §5.4 [DOC]) or epoch ms (the
    plugin)."""
    out: list[int | None] = []
    for ms_key, text_key in zip(ms_keys, text_keys, strict=True):
        text = parse_us_date(body.get(text_key), text_key)
        out.append(text if text is not None else as_int(body.get(ms_key), ms_key, required=False))
    return out


class PlanningResources(Resources):
    # -- cycles (docs/servers/zephyr.md §5.4) ------------------------------------------------------

    def get_release_cycles(self, request: Request, user: User, release_id: str) -> Response:
        """docs/servers/zephyr.md §5.4: a bare array of cycles, each with ``cyclePhases``."""
        release = self.release(int(release_id))
        cycles = [c for c in self.state.cycles.values() if c.release_id == release.id]
        return json_response(200, [cycle_view(self.state, c) for c in cycles])

    def get_cycles_by_name(self, request: Request, user: User, release_id: str) -> Response:
        """docs/servers/zephyr.md §5.4 [BP]. [inference] a bare array of the cycles with exactly
        that name."""
        release = self.release(int(release_id))
        name = request.param("cycleName")
        cycles = [
            c for c in self.state.cycles.values() if c.release_id == release.id and c.name == name
        ]
        return json_response(200, [cycle_view(self.state, c) for c in cycles])

    def get_cycle(self, request: Request, user: User, cycle_id: str) -> Response:
        return json_response(200, cycle_view(self.state, self.cycle(int(cycle_id))))

    def post_cycle(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.4: the documented body (``cycleStartDate`` as ``MM/dd/yyyy``)
        or the plugin's (``startDate`` in ms). Names may repeat (docs/servers/zephyr.md §6: no
        idempotency)."""
        body = request.json_object()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ApiError(400, "name is required and must be a non-empty string.")
        release = self.body_release(body.get("releaseId"))
        environment = str(body.get("environment") or "")
        if self.config.environment_required and not environment.strip():
            raise ApiError(400, "environment is required (cycle.environment.enabled is on).")
        start, end = _dates(body, ("startDate", "endDate"), ("cycleStartDate", "cycleEndDate"))
        cycle = Cycle(
            id=self.state.new_id(),
            name=name,
            release_id=release.id,
            build=str(body.get("build") or ""),
            environment=environment,
            status=as_int(body.get("status"), "status", required=False) or 0,
            start_date=start,
            end_date=end,
            created_on=self.state.now_ms(),
        )
        self.state.cycles[cycle.id] = cycle
        return json_response(200, cycle_view(self.state, cycle))

    # -- cycle phases (docs/servers/zephyr.md §5.4) ------------------------------------------------

    def post_phase(self, request: Request, user: User, cycle_id: str) -> Response:
        """docs/servers/zephyr.md §5.4: ``freeForm: true`` with a ``name`` gets its own tree;
        ``freeForm: false`` is built from repository folder ``tcrCatalogTreeId``. [inference] a
        free-form phase needs a name; a folder-built one is named after its folder unless named."""
        cycle = self.cycle(int(cycle_id))
        body = request.json_object()
        body_cycle = as_int(body.get("cycleId"), "cycleId", required=False)
        if body_cycle is not None and body_cycle != cycle.id:
            raise ApiError(400, f"cycleId {body_cycle} does not match the path ({cycle.id}).")
        body_release = as_int(body.get("releaseId"), "releaseId", required=False)
        if body_release is not None and body_release != cycle.release_id:
            raise ApiError(400, f"Cycle {cycle.id} is not in release {body_release}.")
        free_form = body.get("freeForm")
        if not isinstance(free_form, bool):
            raise ApiError(400, "freeForm is required and must be true or false.")
        name = body.get("name")
        start, end = _dates(body, ("startDate", "endDate"), ("phaseStartDate", "phaseEndDate"))
        phase_id = self.state.new_id()
        if free_form:
            if not isinstance(name, str) or not name.strip():
                raise ApiError(400, "A free-form phase needs a non-empty name.")
            tree = Folder(
                id=self.state.new_id(),
                name=name,
                description="",
                type="Phase",
                release_id=cycle.release_id,
                parent_id=None,
                created_on=self.state.now_ms(),
                created_by=user.id,
                phase_id=phase_id,
            )
            self.state.add_folder(tree)
            tree_id = tree.id
        else:
            tree_id = as_int(body.get("tcrCatalogTreeId"), "tcrCatalogTreeId") or 0
            folder = self.state.folders.get(tree_id)
            if folder is None or folder.phase_id is not None:
                raise ApiError(400, f"Repository tree node {tree_id} does not exist.")
            if folder.release_id != cycle.release_id:
                raise ApiError(400, f"Tree node {tree_id} is not in the cycle's release.")
            if not isinstance(name, str) or not name.strip():
                name = folder.name
        phase = Phase(
            id=phase_id,
            cycle_id=cycle.id,
            name=str(name),
            release_id=cycle.release_id,
            free_form=free_form,
            tree_id=tree_id,
            start_date=start if start is not None else cycle.start_date,
            end_date=end if end is not None else cycle.end_date,
            created_on=self.state.now_ms(),
            description=str(body.get("description") or ""),
        )
        self.state.phases[phase.id] = phase
        cycle.phase_ids.append(phase.id)
        return json_response(200, phase_view(phase))

    # -- adding test cases and assigning them (docs/servers/zephyr.md §5.5) ------------------------

    def post_assign_bytree(
        self, request: Request, user: User, phase_id: str, tree_id: str
    ) -> Response:
        """docs/servers/zephyr.md §5.5 step 1: ``[{"treeid", "tctIds", "isExclusion"}]``.

        [inference] ``isExclusion: true`` adds every test case placed in ``treeid`` except the
        tcts listed; ``false`` adds only the listed tcts. The plugin lists *testcase version*
        ids with ``isExclusion: true`` [CLIENT]; since no tct has such an id, that adds the
        whole folder, which is what the plugin relies on. ``includehierarchy=true`` copies the
        folder path into the phase's tree. Adding a test case twice adds it once.

        docs/servers/zephyr.md §2: at most ``max_bulk`` (500) listed ids a call. Strict mode
        (``EmulatorConfig.strict``): an ``isExclusion: true`` item counts as every test case
        it selects, so a whole-folder item over a folder of 2,000 test cases is a 400 (the
        reference bounds the plugin's writes at 500 and does not say this call is exempt).
        """
        phase = self.phase(int(phase_id))
        if not phase.free_form:
            raise ApiError(400, f"Cycle phase {phase.id} is not free-form.")
        if int(tree_id) != phase.tree_id:
            raise ApiError(400, f"Tree node {tree_id} is not the tree of phase {phase.id}.")
        items = request.json()
        if not isinstance(items, list):
            raise ApiError(400, "The request body must be a JSON array.")
        hierarchy = request.flag("includehierarchy")
        plans: list[tuple[Folder, list[Tct]]] = []
        total = 0
        selected = 0  # strict: an exclusion item counts what it adds, not what it lists
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("tctIds", []), list):
                raise ApiError(
                    400, f"item {index}: expected {{'treeid', 'tctIds', 'isExclusion'}}."
                )
            folder_id = as_int(item.get("treeid"), f"item {index}: treeid") or 0
            folder = self.state.folders.get(folder_id)
            if folder is None or folder.phase_id is not None:
                raise ApiError(400, f"item {index}: repository tree node {folder_id} not found.")
            if folder.release_id != phase.release_id:
                raise ApiError(400, f"item {index}: tree node {folder_id} is in another release.")
            listed = {as_int(v, f"item {index}: tctIds") for v in item.get("tctIds", [])}
            total += len(listed)
            exclusion = bool(item.get("isExclusion", False))
            placed = self.state.tcts_in(folder.id)
            chosen = [t for t in placed if (t.id in listed) != exclusion]
            plans.append((folder, chosen))
            selected += len(chosen) if exclusion else len(listed)
        self.check_bulk(total, "tctIds")
        if self.strict:
            self.check_bulk(selected, "test cases selected (isExclusion: true selects a folder)")
        added = 0
        present = {t.source_tct_id for t in self.state.phase_tcts(phase)}
        for folder, chosen in plans:
            target = self._mirror(phase, folder, user) if hierarchy else phase.tree_id
            for tct in chosen:
                if tct.id in present:
                    continue
                present.add(tct.id)
                self.state.add_tct(Tct(self.state.new_id(), target, tct.testcase, tct.id))
                added += 1
        return json_response(200, added)

    def _mirror(self, phase: Phase, folder: Folder, user: User) -> int:
        """The node in the phase's tree that mirrors ``folder``'s repository path."""
        chain: list[Folder] = []
        current: Folder | None = folder
        while current is not None:
            chain.append(current)
            current = self.state.folders.get(current.parent_id or 0)
        node_id = phase.tree_id
        for source in reversed(chain):
            match = next(
                (c for c in self.state.child_folders(node_id) if c.name == source.name), None
            )
            if match is None:
                match = self.state.add_folder(
                    Folder(
                        self.state.new_id(),
                        source.name,
                        source.description,
                        "Module",
                        phase.release_id,
                        node_id,
                        self.state.now_ms(),
                        user.id,
                        phase.id,
                    )
                )
            node_id = match.id
        return node_id

    def post_assign_phase(self, request: Request, user: User, phase_id: str) -> Response:
        """docs/servers/zephyr.md §5.5 step 2: an empty body assigns the whole phase to the caller;
        the answer is an integer. [inference] the number of executions assigned; existing ones move
        to the caller.

        Strict mode (``EmulatorConfig.strict``): a 400 when it would create more than
        ``max_bulk`` (500) executions. docs/servers/zephyr.md §2 bounds the plugin's writes at 500
        and the reference does not say this call is unbounded."""
        phase = self.phase(int(phase_id))
        if self.strict:
            new = sum(
                1
                for tct in self.state.phase_tcts(phase)
                if self.state.execution_for(phase.id, tct.id) is None
            )
            self.check_bulk(new, "executions to create by assigning the whole phase")
        count = 0
        for tct in self.state.phase_tcts(phase):
            execution = self.state.execution_for(phase.id, tct.id)
            if execution is None:
                self.state.add_execution(phase.id, tct.id, user.id)
            else:
                execution.tester_id = user.id
            count += 1
        return json_response(200, count)

    def post_execution_modify(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.5 step 2:
        ``{"cyclePhaseId", "testerId", "createRTSList": [{"cyclePhaseId", "tctId", "testerId"}],
        …}`` -> array of RTS. ``tctId`` is a tct of the *phase's* tree (the plugin reads it from
        ``testcase/planning/{phaseTreeId}``). [inference] a tct not in the phase is a 400; assigning
        a tct twice reassigns its one execution."""
        body = request.json_object()
        phase = self.phase(as_int(body.get("cyclePhaseId"), "cyclePhaseId") or 0)
        entries = body.get("createRTSList")
        if not isinstance(entries, list):
            raise ApiError(400, "createRTSList must be an array.")
        self.check_bulk(len(entries), "createRTSList items")
        default_tester = self.tester(body.get("testerId"), user)
        in_phase = {t.id for t in self.state.phase_tcts(phase)}
        planned: list[tuple[int, int]] = []
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ApiError(400, f"createRTSList[{index}] must be an object.")
            entry_phase = as_int(entry.get("cyclePhaseId"), "cyclePhaseId", required=False)
            if entry_phase is not None and entry_phase != phase.id:
                raise ApiError(400, f"createRTSList[{index}]: another cycle phase.")
            tct_id = as_int(entry.get("tctId"), f"createRTSList[{index}].tctId") or 0
            if tct_id not in in_phase:
                raise ApiError(400, f"createRTSList[{index}]: tct {tct_id} is not in the phase.")
            tester = self.tester(entry.get("testerId"), user) if "testerId" in entry else None
            planned.append((tct_id, tester if tester is not None else default_tester))
        answer = []
        for tct_id, tester_id in planned:
            execution = self.state.execution_for(phase.id, tct_id)
            if execution is None:
                execution = self.state.add_execution(phase.id, tct_id, tester_id)
            else:
                execution.tester_id = tester_id
            answer.append(execution_view(self.state, execution))
        return json_response(200, answer)
