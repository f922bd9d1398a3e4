"""The steps of one Zephyr delivery, each journaled before the next begins
(docs/servers/zephyr.md §7).

``placement`` (tester, project, release, the status map checked against the server — before
any write), ``testcases`` (every case's repository folder and test case, found or created),
``cycle``, ``phase`` (this upload's own), ``executions`` (cases added to the phase and given
executions), the ``statuses`` batches (with what their answers showed), ``readback`` when
they showed too little; then the attachments (one journal item each; the links are the
target's). Every creation declares an intent first and a resume looks up by name before
creating again (docs/servers/zephyr.md §6: no idempotency).

What was found before the session end (``Lookahead``: the placement and the cycle; the
stream's ``Found`` and places) is a hint: each step checks it against its run, and does the
same without it.
"""

from __future__ import annotations

from typing import Any

from tmupload.errors import ServerRejected
from tmupload.linking import LinkRequest
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    AttachmentResult,
    Delivery,
    Journal,
    Progress,
    ResultMap,
    RunRef,
    trouble_channel,
)
from tmupload.targets.toolkit.steps import (
    ATTACHMENTS,
    CYCLE,
    EXECUTIONS,
    PHASE,
    PLACEMENT,
    READBACK,
    STATUSES,
    TESTCASES,
    once,
)
from tmupload.targets.zephyr.ahead import Lookahead
from tmupload.targets.zephyr.api import ZephyrApi, as_id
from tmupload.targets.zephyr.cycle import create_phase, ensure_cycle
from tmupload.targets.zephyr.executions import Scheduler, read_executions
from tmupload.targets.zephyr.files import ExecutionFiles
from tmupload.targets.zephyr.payload import cut_name, epoch_ms
from tmupload.targets.zephyr.placement import Placement, resolve_placement
from tmupload.targets.zephyr.readback import run_status, totals
from tmupload.targets.zephyr.repository import Cases, Folders, Path, TctRef
from tmupload.targets.zephyr.stream import Found, Seen, place_of
from tmupload.targets.zephyr.submit import StatusWriter, plan_statuses, statuses_shown

__all__ = ["Refs", "ZephyrSteps"]

#: Bulk writes that may overlap: each batch holds other executions (or test cases), and one
#: whose answer is lost is found by the read that follows whichever thread sent it.
_WRITE_CONCURRENCY = 4
#: case id -> (folder, tct id, version id): the journal's own map, one tuple a case (a
#: million cases: no second map of records beside it).
Refs = dict[str, tuple[int, int, int]]
#: case id -> (execution id, its status before this upload): tuples, not lists, one a case
#: (journaled as JSON arrays all the same).
Mapped = dict[str, Any]


class ZephyrSteps:
    """One delivery of ``run`` to Zephyr, a method a step."""

    def __init__(
        self,
        api: ZephyrApi,
        run: RunReport,
        journal: Journal,
        *,
        ahead: Lookahead,
        status_map: dict[str, str],
        root: tuple[str, ...],
        progress: Progress,
    ) -> None:
        self.api = api
        self.run = run
        self.journal = journal
        self.settings: Settings = ahead.settings
        self._ahead = ahead
        self._status_map = status_map
        self._root = list(root)
        self._progress = progress
        self._writers = min(_WRITE_CONCURRENCY, self.settings.link_concurrency)

    # -- where the run goes ------------------------------------------------------------------
    def placement(self) -> Placement:
        """As journaled, else as found ahead, else resolved now."""

        def resolve() -> dict[str, Any]:
            ahead = self._ahead.found_placement()
            if ahead is None:
                self._progress("resolving the Zephyr project, release and statuses")
                ahead = resolve_placement(self.api, self.settings, self._status_map)
            return ahead.as_data()

        return Placement.from_data(once(self.journal, PLACEMENT, resolve))

    def test_cases(self, placement: Placement, seen: Seen, found: Found | None) -> Refs:
        """Every case's repository folder and test case, found or created."""
        return once(
            self.journal,
            TESTCASES,
            lambda: {"cases": self._repository(placement, seen, found)},
            _revive_test_cases,
        )["cases"]

    def _repository(self, placement: Placement, seen: Seen, found: Found | None) -> Refs:
        """case id -> (folder id, tct id, version id), creating what is missing; from what
        the stream found where it can."""
        self._progress("finding the repository folders and test cases")
        found = found if found is not None else Found()
        ids: dict[Path, int | None] = dict(found.folders)
        folders = Folders(
            self.api,
            placement.release_id,
            self.journal,
            create=True,
            ids=ids,
            fresh=set(found.fresh),
        )
        cases = Cases(
            self.api,
            placement.project_id,
            placement.release_id,
            self.journal,
            self._progress,
            known=dict(found.known),
            concurrency=self.settings.link_concurrency,
        )
        wanted: dict[str, tuple[int, str]] = {}
        by_path: dict[Path, int] = {}
        for case in self.run.cases:
            path, name = place_of(case, self._root, seen)
            folder = by_path.get(path)
            if folder is None:
                folder = by_path[path] = folders.resolve(path) or 0
            wanted[case.case_id] = (folder, name)
        cases.list_folders([], empty=folders.fresh)
        refs = cases.ensure(wanted)
        return {case: (wanted[case][0], refs[case].tct, refs[case].version) for case in wanted}

    def cycle(
        self, placement: Placement, found: Found | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """(the cycle as journaled, its phases if they were just read)."""
        phases: list[dict[str, Any]] | None = None

        def find_or_make() -> dict[str, Any]:
            nonlocal phases
            self._progress("finding the Zephyr cycle")
            cycle, phases = self._find_or_make_cycle(placement, found)
            return {k: cycle.get(k) for k in ("id", "name", "startDate", "endDate")}

        cycle = once(self.journal, CYCLE, find_or_make)
        return cycle, phases

    def _find_or_make_cycle(
        self, placement: Placement, found: Found | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """(the cycle, its phases as just read or None); one found ahead is read again (it
        must still be there, in this release, and its phases are needed as they are now)."""
        name = str(self.settings.option("cycle"))
        ahead = found.cycle if found is not None else None
        if ahead is None:
            ahead = self._ahead.cycle_in(placement.release_id)  # prepare's
        ahead_id = as_id(ahead.get("id")) if ahead is not None else None
        if ahead_id is not None:
            try:
                cycle = self.api.cycle(ahead_id)
            except ServerRejected:
                cycle = {}
            if (
                as_id(cycle.get("id")) == ahead_id
                and cycle.get("name") == name
                and as_id(cycle.get("releaseId")) in (None, placement.release_id)
            ):
                return cycle, _phases_of(cycle)
        cycle = ensure_cycle(
            self.api,
            placement.release_id,
            name,
            self.run.started_at,
            self.journal,
            self.settings.build,
        )
        return cycle, _phases_of(cycle)

    def phase(
        self,
        placement: Placement,
        cycle: dict[str, Any],
        phases: list[dict[str, Any]] | None,
    ) -> dict[str, Any]:
        """This upload's own phase in the cycle."""

        def create() -> dict[str, Any]:
            self._progress("creating this upload's phase")
            return create_phase(
                self.api, cycle, placement.release_id, self.run, self.journal, phases
            )

        return once(self.journal, PHASE, create)

    # -- the executions ----------------------------------------------------------------------
    def executions(self, placement: Placement, phase: dict[str, Any], refs: Refs) -> Mapped:
        """case id -> (execution id, status): the cases added to the phase and executed."""
        return once(self.journal, EXECUTIONS, lambda: self._schedule(placement, phase, refs))

    def _schedule(self, placement: Placement, phase: dict[str, Any], refs: Refs) -> Mapped:
        # "add" and "assign": the intents of entries journaled by an earlier version
        again = any(self.journal.intent(step) is not None for step in (EXECUTIONS, "add", "assign"))
        scheduler = Scheduler(
            self.api,
            phase,
            placement.tester_id,
            self.journal,
            self._progress,
            concurrency=self._writers,
        )
        by_folder: dict[int, list[TctRef]] = {}
        for folder, tct, version in dict.fromkeys(refs.values()):  # once each, in order
            by_folder.setdefault(folder, []).append(TctRef(tct, version))
        executions = scheduler.run(by_folder, again)
        del by_folder
        return {
            case: (executions[version].id, executions[version].status)
            for case, (_, _, version) in refs.items()
        }

    def statuses(
        self,
        placement: Placement,
        phase: dict[str, Any],
        refs: Refs,
        mapped: Mapped,
        requests: list[LinkRequest],
    ) -> dict[str, str]:
        """case id -> status as the server shows it: set, and as the answers showed them, or
        read back when they showed too little."""
        read = self.journal.done(READBACK)
        if read is None:
            sent = once(
                self.journal,
                STATUSES,
                lambda: _statuses_step(self._set_statuses(placement, mapped, requests)),
            )
            read = sent.get("read")
        if read is None:
            read = once(self.journal, READBACK, lambda: self._read_back(phase, refs))
        return read

    def _set_statuses(
        self, placement: Placement, mapped: Mapped, requests: list[LinkRequest]
    ) -> dict[str, str] | None:
        """Set every status; case id -> status as the answers showed them (None when they
        did not show every execution sent: the caller reads them back)."""
        planned, unsent = plan_statuses(self.run, placement.statuses, mapped, requests)
        writer = StatusWriter(
            self.api,
            placement.tester_id,
            epoch_ms(self.run.finished_at),
            self.journal,
            self._progress,
            trouble_channel(self._progress),
            concurrency=self._writers,
        )
        writer.run(planned)
        del planned  # sent: a record a case, let go before the statuses are mapped
        return statuses_shown(mapped, writer.read, unsent)

    def _read_back(self, phase: dict[str, Any], refs: Refs) -> dict[str, str]:
        self._progress("reading the executions back")
        listed = read_executions(self.api, phase["phase"])
        return {
            case: listed[version].status
            for case, (_, _, version) in refs.items()
            if version in listed
        }

    # -- what the summary says -------------------------------------------------------------
    def report(
        self,
        out: Delivery,
        placement: Placement,
        where: tuple[dict[str, Any], dict[str, Any]],
        mapped: Mapped,
        read: dict[str, str],
    ) -> None:
        """Each case's execution and status, the totals, and the phase (``where``: the
        cycle and the phase)."""
        names = placement.status_names

        def status_of(case: str) -> str | None:
            word = read.get(case)
            return names.get(word or "", word)

        out.results = ResultMap(mapped, status_of, lambda execution: str(execution[0]))
        out.unmapped = [c.case_id for c in self.run.cases if c.case_id not in read]
        out.totals = totals(self.run, placement, mapped, read)
        out.run = self._phase_ref(placement, *where, read, mapped)

    def _phase_ref(
        self,
        placement: Placement,
        cycle: dict[str, Any],
        phase: dict[str, Any],
        read: dict[str, str],
        mapped: Mapped,
    ) -> RunRef:
        """The phase. The reference gives no web-UI address, so ``where`` says how to find
        it; ``api_url`` lists its executions."""
        where = (
            f"Test Execution › release {placement.release_name} › cycle {cycle.get('name')} "
            f"› phase {cut_name(self.run.name)} (project {placement.project_name})"
        )
        return RunRef(
            id=str(phase["phase"]),
            url=None,
            api_url=self.api.http.url(f"execution?cyclephaseid={phase['phase']}"),
            status=run_status(read, mapped),
            where=where,
        )

    # -- links and files -----------------------------------------------------------------------
    def executions_of(self, mapped: Mapped, requests: list[LinkRequest]) -> dict[str, int]:
        """case id -> execution id, only for the cases a link or a file goes to (a million
        cases, a few thousand of those)."""
        needed = {r.case_id for r in requests}
        needed.update(case.case_id for case in self.run.cases if case.attachments)
        return {case: int(mapped[case][0]) for case in needed if case in mapped}

    def attachments(
        self, placement: Placement, phase: dict[str, Any], executions_of: dict[str, int]
    ) -> list[AttachmentResult]:
        """Every file of the run on its execution; after an attempt that may have sent some,
        each looked for first."""
        look_first = self.journal.intent(ATTACHMENTS) is not None
        self.journal.declare(ATTACHMENTS, {"phase": phase.get("phase")})
        files = ExecutionFiles(self.api, executions_of, placement.tester_id, look_first=look_first)
        return files.send_all(self.run, self.journal, progress=self._progress)


def _revive_test_cases(data: dict[str, Any]) -> dict[str, Refs]:
    return {"cases": {case: (int(v[0]), int(v[1]), int(v[2])) for case, v in data["cases"].items()}}


def _statuses_step(read: dict[str, str] | None) -> dict[str, Any]:
    """What the ``statuses`` step records: what the answers showed, if they showed all."""
    return {"read": read} if read is not None else {}


def _phases_of(cycle: dict[str, Any]) -> list[dict[str, Any]] | None:
    phases = cycle.get("cyclePhases")
    return phases if isinstance(phases, list) else None
