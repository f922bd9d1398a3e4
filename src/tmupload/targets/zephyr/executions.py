"""The executions of this upload's phase (docs/servers/zephyr.md §5.5; §7 step 4).

* Test cases are added to the phase's tree (docs/servers/zephyr.md §5.5 step 1), listed by id
  (``isExclusion: false``), at most ``BATCH`` ids a call whatever the folders (a whole-folder
  item counts as every case in the folder on a server that bounds bulk calls); a call refused
  as too big is halved. The phase's tree is read back after each round (``testcase/planning``,
  docs/servers/zephyr.md §5.5: its copies have tct ids of their own).
* Executions are made with ``POST /execution/modify`` and ``createRTSList``
  (docs/servers/zephyr.md §5.5 step 2, the plugin's call), whose answer is the executions made:
  mapped back through ``tcrTreeTestcase.testcase.id`` (the version id, docs/servers/zephyr.md §5.5),
  they need no listing. Only what an answer did not show (a lost answer, an answer of another shape)
  is listed (``GET /execution``, every page), and a server without the call gets the whole phase
  assigned to the uploader in one call, then listed (docs/servers/zephyr.md §5.5 step 2, the other
  way).
* One intent is declared before the first write of the step: a resume reads the phase's tree
  and its executions first and adds or makes only what is missing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tmupload.errors import ServerError, ServerProtocolError
from tmupload.targets.base import Journal, Progress
from tmupload.targets.batching import chunks, first_alone_then_pool, send_halving
from tmupload.targets.toolkit.steps import EXECUTIONS
from tmupload.targets.zephyr.api import BATCH, ZephyrApi, answer_lost, as_id, decode, results
from tmupload.targets.zephyr.repository import TctRef

__all__ = ["ExecutionRef", "Scheduler", "execution_refs", "read_executions", "status_id"]


def status_id(value: Any) -> str:
    """An execution's status: ``"1"``, ``1`` or ``{"id": 1}``
    (docs/servers/zephyr.md §5.5, §5.6)."""
    if isinstance(value, dict):
        value = value.get("id")
    return "" if value is None else str(value).strip()


@dataclass(frozen=True, slots=True)
class ExecutionRef:
    """One execution (one a case: slotted, a few status strings shared by all)."""

    id: int
    status: str


def execution_refs(
    items: Iterable[dict[str, Any]], by_tct: dict[int, int] | None = None
) -> dict[int, ExecutionRef]:
    """testcase version id -> its execution, from RTS objects (docs/servers/zephyr.md §5.5 step 3:
    matched through ``tcrTreeTestcase.testcase.id``; ``by_tct`` maps a phase tct id to its version
    for an RTS that names only its ``tcrTreeTestcase.id``). The newest execution wins."""
    found: dict[int, ExecutionRef] = {}
    for item in items:
        tct = item.get("tcrTreeTestcase")
        version = None
        if isinstance(tct, dict):
            case = tct.get("testcase")
            if isinstance(case, dict):
                version = case.get("id")
                if type(version) is not int:
                    version = as_id(version)
            if version is None and by_tct:
                version = by_tct.get(as_id(tct.get("id")) or -1)
        execution_id = item.get("id")
        if type(execution_id) is not int:
            execution_id = as_id(execution_id)
        if version is None or execution_id is None:
            continue
        known = found.get(version)
        if known is None or execution_id > known.id:
            status = item.get("status")
            found[version] = ExecutionRef(
                execution_id,
                sys.intern(status.strip() if type(status) is str else status_id(status)),
            )
    return found


def read_executions(api: ZephyrApi, phase_id: int) -> dict[int, ExecutionRef]:
    """testcase version id -> its execution in the phase (docs/servers/zephyr.md §5.5 step 3, every
    page)."""
    return execution_refs(api.executions(phase_id))


#: Answers of ``execution/modify`` that say the server lacks the call (then the whole phase
#: is assigned instead, docs/servers/zephyr.md §5.5 step 2).
_NO_MODIFY = (404, 405, 501)


class Scheduler:
    """Add the run's test cases to its phase, make their executions, and map them."""

    def __init__(
        self,
        api: ZephyrApi,
        phase: dict[str, int],
        tester_id: int,
        journal: Journal,
        progress: Progress,
        concurrency: int = 1,
    ) -> None:
        self.api = api
        self.phase_id = phase["phase"]
        self.tree_id = phase["tree"]
        self.tester_id = tester_id
        self.journal = journal
        self.progress = progress
        self.concurrency = concurrency
        self._declared = False

    def _declare(self) -> None:
        """Once, before the step's first write (adding or assigning)."""
        if not self._declared:
            self.journal.declare(EXECUTIONS, {"phase": self.phase_id, "at_epoch": time.time()})
            self._declared = True

    def _planned(self) -> dict[int, int]:
        """version id -> the tct id in the phase's own tree (docs/servers/zephyr.md §5.5: a
        free-form phase's tree holds copies with new tct ids; ``execution/modify`` wants those)."""
        found: dict[int, int] = {}
        for tct in self.api.planned(self.tree_id):
            case = tct.get("testcase")
            version = as_id(case.get("id")) if isinstance(case, dict) else None
            tct_id = as_id(tct.get("id"))
            if version is not None and tct_id is not None and version not in found:
                found[version] = tct_id
        return found

    def run(self, by_folder: dict[int, list[TctRef]], resuming: bool) -> dict[int, ExecutionRef]:
        """version id -> execution, for every test case of ``by_folder`` (repository folder
        -> its test cases in this run)."""
        wanted = [ref.version for refs in by_folder.values() for ref in refs]
        planned = self.add_cases(by_folder, resuming)
        return self.assign(wanted, planned, resuming)

    def add_cases(self, by_folder: dict[int, list[TctRef]], resuming: bool) -> dict[int, int]:
        """Add the test cases to the phase; version id -> phase tct. A resume reads what is
        planned first and adds only the rest.

        The cases are listed, ``BATCH`` ids a call: a whole-folder item (``isExclusion:
        true``) would carry every test case of the folder in one call, which a server that
        bounds its bulk calls to 500 items refuses (docs/servers/zephyr.md §2). Whether ``tctIds``
        are tct or version ids is [UNCONFIRMED] (docs/servers/zephyr.md §5.5): tct ids first; what
        the phase's tree does not show then goes again by version id; a folder still missing after
        both goes whole, the last resort."""
        planned = self._planned() if resuming else {}
        for ids_of in (_by_tct, _by_version):
            todo = {
                folder: rest
                for folder, refs in sorted(by_folder.items())
                if (rest := [r for r in refs if r.version not in planned])
            }
            if not todo:
                break
            count = sum(map(len, todo.values()))
            self.progress(f"adding {count:,} test cases to the phase")
            pairs = [(folder, ids_of(r)) for folder, refs in todo.items() for r in refs]
            first_alone_then_pool(
                self._add, [list(batch) for batch in chunks(pairs, BATCH)], self.concurrency
            )
            planned = self._planned()
        else:
            missing = {f for f, refs in by_folder.items() for r in refs if r.version not in planned}
            if missing:
                self._add_whole(sorted(missing))
                planned = self._planned()
        if not resuming and not planned:
            planned = self._planned()
        lost = {r.version for refs in by_folder.values() for r in refs} - set(planned)
        if lost:
            raise ServerProtocolError(
                f"Zephyr did not add {len(lost)} test case(s) to the phase "
                "(docs/servers/zephyr.md §5.5 "
                "assign/bytree); the run is kept in the outbox"
            )
        return planned

    def _add(self, pairs: list[tuple[int, int]]) -> None:
        """Add (folder, id) pairs: one item a folder, halved while refused as too big."""
        self._declare()
        try:
            send_halving(self._add_now, pairs, self._halved)
        except ServerError as exc:
            if not answer_lost(exc):
                raise  # a lost answer: the planning read that follows tells what landed

    def _add_now(self, pairs: list[tuple[int, int]]) -> None:
        by_folder: dict[int, list[int]] = {}
        for folder, item in pairs:
            by_folder.setdefault(folder, []).append(item)
        body = [
            {"treeid": folder, "tctIds": ids, "isExclusion": False}
            for folder, ids in by_folder.items()
        ]
        self.api.add_by_tree(self.phase_id, self.tree_id, body)

    def _add_whole(self, folders: list[int]) -> None:
        """The last resort: every test case of each folder (nothing excluded)."""
        self._declare()
        for folder in folders:
            try:
                body = [{"treeid": folder, "tctIds": [], "isExclusion": True}]
                self.api.add_by_tree(self.phase_id, self.tree_id, body)
            except ServerError as exc:
                if not answer_lost(exc):
                    raise

    def _halved(self, count: int) -> None:
        self.progress(f"Zephyr refused {count} items in one call as too many; sending halves")

    def assign(
        self, wanted: list[int], planned: dict[int, int], resuming: bool
    ) -> dict[int, ExecutionRef]:
        """version id -> execution, made with ``execution/modify``
        (docs/servers/zephyr.md §5.5 step 2) for every wanted version that has none. A resume lists
        the phase's executions first."""
        by_tct = {tct: version for version, tct in planned.items()}
        executions = read_executions(self.api, self.phase_id) if resuming else {}
        for again in (False, True):
            todo = [v for v in wanted if v not in executions]
            if again and todo:
                # An answer was lost or did not show its executions: list what the phase
                # has (never make an execution twice), then make only what is still missing.
                executions.update(read_executions(self.api, self.phase_id))
                todo = [v for v in wanted if v not in executions]
            batches = [
                [planned[v] for v in todo[i : i + BATCH]] for i in range(0, len(todo), BATCH)
            ]
            # The first call alone: it tells whether the server has it at all.
            for answered in first_alone_then_pool(
                lambda tcts: self._modify_halving(tcts, by_tct), batches, self.concurrency
            ):
                if answered is None:  # the server lacks the call
                    return self._assign_phase(wanted)
                executions.update(answered)
        if any(v not in executions for v in wanted):
            executions.update(read_executions(self.api, self.phase_id))
        return _all_made(executions, wanted)

    def _modify_halving(
        self, tcts: list[int], by_tct: dict[int, int]
    ) -> dict[int, ExecutionRef] | None:
        """``_modify``, halved while the server refuses the batch as too big."""
        made: dict[int, ExecutionRef] = {}
        for answered in send_halving(lambda part: self._modify(part, by_tct), tcts, self._halved):
            if answered is None:
                return None
            made.update(answered)
        return made

    def _modify(self, tcts: list[int], by_tct: dict[int, int]) -> dict[int, ExecutionRef] | None:
        """One ``execution/modify`` call; the executions its answer shows (None: the server
        lacks the call)."""
        body = {
            "selectedAll": 1,
            "testerId": self.tester_id,
            "cyclePhaseId": self.phase_id,
            "tcrCatalogTreeId": self.tree_id,
            "createRTSList": [
                {"cyclePhaseId": self.phase_id, "tctId": tct, "testerId": self.tester_id}
                for tct in tcts
            ],
        }
        self._declare()
        try:
            response = self.api.modify(body)
        except ServerError as exc:
            if not answer_lost(exc):
                raise
            return {}
        if response.status_code in _NO_MODIFY:
            return None
        try:
            answer = results(decode(response), "execution/modify") if response.content else []
        except (ValueError, ServerProtocolError):
            return {}  # not the documented array of RTS: the listing tells
        return execution_refs(answer, by_tct)

    def _assign_phase(self, wanted: list[int]) -> dict[int, ExecutionRef]:
        """docs/servers/zephyr.md §5.5 step 2, the other way: the whole phase to the uploader, then
        listed."""
        self._declare()
        try:
            self.api.assign_phase(self.phase_id)
        except ServerError as exc:
            if not answer_lost(exc):
                raise
        executions = read_executions(self.api, self.phase_id)
        return _all_made(executions, wanted)


def _all_made(executions: dict[int, ExecutionRef], wanted: list[int]) -> dict[int, ExecutionRef]:
    """``executions``, once it holds every wanted version."""
    absent = [v for v in wanted if v not in executions]
    if absent:
        raise ServerProtocolError(
            f"Zephyr shows no execution for {len(absent)} test case(s) of the phase after "
            "assigning it (docs/servers/zephyr.md §5.5); the run is kept in the outbox"
        )
    return executions


def _by_tct(ref: TctRef) -> int:
    return ref.tct


def _by_version(ref: TctRef) -> int:
    return ref.version
