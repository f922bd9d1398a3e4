"""Cycle, phase and executions (ref §4.4, §4.5; DESIGN §3c step 4).

* The cycle is found by exact name (the oldest of same-named ones) or created.
* Each upload gets its own free-form phase named after the run. Phase names may repeat, so
  the intent records which same-named phases existed before the POST: on a lost answer or a
  resume, a same-named phase that was not there before is ours, never created twice.
* Test cases are added to the phase's tree by tct id (``isExclusion: false``) and read back
  with ``testcase/planning``; the phase is assigned to the uploader, and the executions
  listed and mapped back through ``tcrTreeTestcase.testcase.id`` (the version id, ref §4.5).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tmupload.errors import ServerError, ServerProtocolError
from tmupload.models import RunReport
from tmupload.targets.base import Journal, Progress
from tmupload.targets.zephyr.api import BATCH, ZephyrApi, answer_lost, as_id
from tmupload.targets.zephyr.payload import cut_name, epoch_ms, us_date
from tmupload.targets.zephyr.repository import TctRef

__all__ = [
    "ExecutionRef",
    "Scheduler",
    "create_phase",
    "ensure_cycle",
    "find_cycle",
    "read_executions",
    "status_id",
]


def _oldest(items: Iterable[dict[str, Any]], name: str) -> dict[str, Any] | None:
    same = [i for i in items if str(i.get("name", "")) == name and as_id(i.get("id")) is not None]
    return min(same, key=lambda i: as_id(i["id"]) or 0) if same else None


def find_cycle(api: ZephyrApi, release_id: int, name: str) -> dict[str, Any] | None:
    return _oldest(api.cycles(release_id), name)


def ensure_cycle(
    api: ZephyrApi, release_id: int, name: str, run: RunReport, journal: Journal
) -> dict[str, Any]:
    """ref §4.4: ``POST /cycle`` with the documented body (``MM/dd/yyyy`` dates). The cycle
    outlives this run, so it spans a year from it (phases must fit in their cycle)."""
    found = find_cycle(api, release_id, name)
    if found is not None:
        return found
    journal.declare("cycle", {"name": name, "at_epoch": time.time()})
    body = {
        "name": name,
        "build": "",
        "environment": "",
        "status": 0,
        "cycleStartDate": us_date(run.started_at),
        "cycleEndDate": us_date(run.started_at + timedelta(days=365)),
        "releaseId": release_id,
    }
    try:
        return api.create_cycle(body)
    except ServerError as exc:
        again = find_cycle(api, release_id, name) if answer_lost(exc) else None
        if again is None:
            raise
        return again


def _phases(api: ZephyrApi, release_id: int, cycle_id: int) -> list[dict[str, Any]]:
    phases = api.cycle(cycle_id).get("cyclePhases")
    if not isinstance(phases, list):  # a cycle read without its phases: the release's list
        cycle = next((c for c in api.cycles(release_id) if as_id(c.get("id")) == cycle_id), {})
        phases = cycle.get("cyclePhases") or []
    return [p for p in phases if isinstance(p, dict)]


def _phase_ref(phase: dict[str, Any]) -> dict[str, int]:
    phase_id, tree_id = as_id(phase.get("id")), as_id(phase.get("tcrCatalogTreeId"))
    if phase_id is None or tree_id is None:
        raise ServerProtocolError(f"the cycle phase has no id or tree: {str(phase)[:200]}")
    return {"phase": phase_id, "tree": tree_id}


def _clamp(value: int, cycle: dict[str, Any]) -> int:
    low, high = as_id(cycle.get("startDate")), as_id(cycle.get("endDate"))
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


def create_phase(
    api: ZephyrApi,
    cycle: dict[str, Any],
    release_id: int,
    run: RunReport,
    journal: Journal,
) -> dict[str, int]:
    """One free-form phase for this upload (ref §4.4, the plugin's body [CLIENT])."""
    cycle_id = int(as_id(cycle.get("id")) or 0)
    name = cut_name(run.name)
    intent = journal.intent("phase")
    if intent is not None and intent.get("cycle") == cycle_id:
        mine = _new_phase(api, release_id, cycle_id, name, intent.get("known", []))
        if mine is not None:
            return _phase_ref(mine)
    known = [
        as_id(p.get("id")) for p in _phases(api, release_id, cycle_id) if p.get("name") == name
    ]
    journal.declare("phase", {"cycle": cycle_id, "name": name, "known": known})
    body = {
        "name": name,
        "cycleId": cycle_id,
        "releaseId": release_id,
        "freeForm": True,
        "startDate": _clamp(epoch_ms(run.started_at), cycle),
        "endDate": _clamp(epoch_ms(run.finished_at), cycle),
    }
    try:
        created = api.create_phase(cycle_id, body)
    except ServerError as exc:
        again = _new_phase(api, release_id, cycle_id, name, known) if answer_lost(exc) else None
        if again is None:
            raise
        created = again
    if as_id(created.get("tcrCatalogTreeId")) is None:
        created = _new_phase(api, release_id, cycle_id, name, known) or created
    return _phase_ref(created)


def _new_phase(
    api: ZephyrApi, release_id: int, cycle_id: int, name: str, known: list[Any]
) -> dict[str, Any] | None:
    """The same-named phase that did not exist before our POST (the newest, if several)."""
    new = [
        p
        for p in _phases(api, release_id, cycle_id)
        if p.get("name") == name and as_id(p.get("id")) not in known
    ]
    return max(new, key=lambda p: as_id(p.get("id")) or 0) if new else None


def status_id(value: Any) -> str:
    """An execution's status: ``"1"``, ``1`` or ``{"id": 1}`` (ref §4.5, §4.6)."""
    if isinstance(value, dict):
        value = value.get("id")
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class ExecutionRef:
    id: int
    status: str


def read_executions(api: ZephyrApi, phase_id: int) -> dict[int, ExecutionRef]:
    """testcase version id -> its execution in the phase (ref §4.5 step 3, every page)."""
    found: dict[int, ExecutionRef] = {}
    for item in api.executions(phase_id):
        tct = item.get("tcrTreeTestcase")
        case = tct.get("testcase") if isinstance(tct, dict) else None
        version = as_id(case.get("id")) if isinstance(case, dict) else None
        execution_id = as_id(item.get("id"))
        if version is None or execution_id is None:
            continue
        if version not in found or execution_id > found[version].id:
            found[version] = ExecutionRef(execution_id, status_id(item.get("status")))
    return found


class Scheduler:
    """Add the run's test cases to its phase, assign them, and map the executions."""

    def __init__(
        self,
        api: ZephyrApi,
        phase: dict[str, int],
        tester_id: int,
        journal: Journal,
        progress: Progress,
    ) -> None:
        self.api = api
        self.phase_id = phase["phase"]
        self.tree_id = phase["tree"]
        self.tester_id = tester_id
        self.journal = journal
        self.progress = progress

    def _planned(self) -> dict[int, int]:
        """version id -> the tct id in the phase's own tree (ref §4.5: a free-form phase's
        tree holds copies with new tct ids; ``execution/modify`` wants those)."""
        found: dict[int, int] = {}
        for tct in self.api.planned(self.tree_id):
            case = tct.get("testcase")
            version = as_id(case.get("id")) if isinstance(case, dict) else None
            if version is not None and as_id(tct.get("id")) is not None:
                found.setdefault(version, int(as_id(tct["id"]) or 0))
        return found

    def add_cases(self, by_folder: dict[int, list[TctRef]], resuming: bool) -> dict[int, int]:
        """Add the test cases (by repository folder) to the phase; version id -> phase tct.
        A resume reads what is planned first and adds only the rest."""
        wanted = {ref.version for refs in by_folder.values() for ref in refs}
        planned = self._planned() if resuming else {}
        todo = [
            (f, r)
            for f, refs in sorted(by_folder.items())
            for r in refs
            if r.version not in planned
        ]
        if todo:
            self.progress(f"adding {len(todo):,} test cases to the phase")
        for start in range(0, len(todo), BATCH):
            self._add(todo[start : start + BATCH], exclusion=False)
        planned = self._planned() if todo or not resuming else planned
        missing = {f for f, refs in by_folder.items() for r in refs if r.version not in planned}
        if missing:
            # [UNCONFIRMED] whether ``tctIds`` are tct or version ids (ref §4.5): add the
            # whole folders instead (an empty exclusion list means "all", either way).
            self._add([(f, None) for f in sorted(missing)], exclusion=True)
            planned = self._planned()
        lost = wanted - set(planned)
        if lost:
            raise ServerProtocolError(
                f"Zephyr did not add {len(lost)} test case(s) to the phase (ref §4.5 "
                "assign/bytree); the run is kept — try tmupload resend"
            )
        return planned

    def _add(self, todo: Sequence[tuple[int, TctRef | None]], exclusion: bool) -> None:
        by_folder: dict[int, list[int]] = {}
        for folder, ref in todo:
            by_folder.setdefault(folder, [])
            if ref is not None:
                by_folder[folder].append(ref.tct)
        items = [
            {"treeid": folder, "tctIds": ids, "isExclusion": exclusion}
            for folder, ids in by_folder.items()
        ]
        self.journal.declare("add", {"phase": self.phase_id, "at_epoch": time.time()})
        try:
            self.api.add_by_tree(self.phase_id, self.tree_id, items)
        except ServerError as exc:
            if not answer_lost(exc):
                raise  # a lost answer: the planning read that follows tells what landed

    def assign(self, planned: dict[int, int]) -> dict[int, ExecutionRef]:
        """version id -> execution. The whole phase is assigned to the uploader in one call
        (ref §4.5 step 2); whatever that left without an execution goes through
        ``execution/modify`` with the phase's tct ids."""
        self.journal.declare("assign", {"phase": self.phase_id, "at_epoch": time.time()})
        try:
            self.api.assign_phase(self.phase_id)
        except ServerError as exc:
            if not answer_lost(exc):
                raise
        executions = read_executions(self.api, self.phase_id)
        missing = [v for v in planned if v not in executions]
        for start in range(0, len(missing), BATCH):
            batch = missing[start : start + BATCH]
            body = {
                "selectedAll": 1,
                "testerId": self.tester_id,
                "cyclePhaseId": self.phase_id,
                "tcrCatalogTreeId": self.tree_id,
                "createRTSList": [
                    {"cyclePhaseId": self.phase_id, "tctId": planned[v], "testerId": self.tester_id}
                    for v in batch
                ],
            }
            try:
                self.api.modify(body)
            except ServerError as exc:
                if not answer_lost(exc):
                    raise
        if missing:
            executions = read_executions(self.api, self.phase_id)
        absent = [v for v in planned if v not in executions]
        if absent:
            raise ServerProtocolError(
                f"Zephyr shows no execution for {len(absent)} test case(s) of the phase after "
                "assigning it (ref §4.5); the run is kept — try tmupload resend"
            )
        return executions
