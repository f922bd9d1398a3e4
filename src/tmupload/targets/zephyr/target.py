"""The Zephyr Enterprise target: DESIGN §3c on top of ``ZephyrApi``.

Steps, each journaled before the next begins, so that a resend resumes where it stopped:
``placement`` (tester, project, release, the status map checked against the server — before
any write), ``testcases`` (every case's repository folder and test case, found or created),
``cycle``, ``phase`` (this upload's own), ``executions`` (cases added to the phase and given
executions), the ``statuses`` batches (with what their answers showed), ``readback`` when
they showed too little, then the links (``linking.link_all``, one journal item each) and the
attachments (one item each). Every creation declares an intent first and a resume looks up
by name before creating again (ref §5: no idempotency).

Work that does not wait for the session end: ``prepare`` looks the placement and the cycle up
while the tests run, and ``stream`` places each case as its test ends and, on an xdist
controller, finds and creates the repository folders and test cases meanwhile
(``stream.py``). Both are hints: ``deliver`` checks them against its run and does the rest, and
works the same without them.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import httpx

from tmupload.errors import ServerRejected, TmUploadError
from tmupload.http.client import HttpClient
from tmupload.http.poll import Deadline
from tmupload.linking import LinkRequest, link_all, link_requests
from tmupload.models import Outcome, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    Delivery,
    Journal,
    LinkResult,
    Progress,
    ResultMap,
    RunRef,
    quiet,
    trouble_channel,
)
from tmupload.targets.zephyr.api import ZephyrApi, as_id, zephyr_client
from tmupload.targets.zephyr.files import ExecutionFiles
from tmupload.targets.zephyr.linking import DefectLinker
from tmupload.targets.zephyr.payload import case_place, cut_name, epoch_ms, notes, split_path
from tmupload.targets.zephyr.placement import Placement, resolve_placement
from tmupload.targets.zephyr.preflight import preflight
from tmupload.targets.zephyr.readback import run_status, totals
from tmupload.targets.zephyr.repository import Cases, Folders, Path, TctRef
from tmupload.targets.zephyr.schedule import (
    Scheduler,
    create_phase,
    ensure_cycle,
    find_cycle,
    read_executions,
)
from tmupload.targets.zephyr.statusmap import parse_status_map
from tmupload.targets.zephyr.stream import Found, ZephyrStream, same_place
from tmupload.targets.zephyr.submit import Planned, StatusWriter

__all__ = ["ZephyrTarget"]

log = logging.getLogger("tmupload.targets.zephyr")

TITLE = "Zephyr Enterprise"
#: Seconds the lookups made before the session end may take, at most.
_PREPARE_BUDGET = 30.0
#: Outcomes whose notes say nothing unless the case has a message, details, reruns or keys.
_PLAIN = frozenset({Outcome.PASSED, Outcome.XPASSED})
#: Bulk writes that may overlap: each batch holds other executions (or test cases), and one
#: whose answer is lost is found by the read that follows whichever thread sent it.
_WRITE_CONCURRENCY = 4


class ZephyrTarget:
    """Deliver a RunReport to Zephyr Enterprise as one phase of executions in a cycle."""

    name = TITLE

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        progress: Progress = quiet,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._progress = progress
        # A bad map is a ConfigError here, before anything runs: the plugin builds the target
        # when pytest starts, so the session stops with one message instead of uploading late.
        self.option = settings.names("status_map").split(" (")[0]
        self.status_map = parse_status_map(settings.option("status_map"), self.option)
        self.root = tuple(split_path(settings.option("repository_folder")) or ["Automation"])
        # Found before deliver (prepare, stream): hints it checks and completes.
        self._ahead_lock = threading.Lock()
        self._ahead_placement: Placement | None = None
        self._ahead_cycle: dict[str, Any] | None = None
        self._ahead_failed = False
        self._stream: ZephyrStream | None = None

    def describe(self) -> str:
        return preflight(self.settings)

    def _client(self) -> HttpClient:
        return zephyr_client(
            self.settings, transport=self._transport, on_retry=trouble_channel(self._progress)
        )

    def background_client(self) -> HttpClient:
        """A client for work done while the tests run: quiet, two attempts, a short budget
        (whatever it leaves undone, deliver does)."""
        return zephyr_client(
            self.settings,
            transport=self._transport,
            attempts=2,
            deadline=Deadline(min(self.settings.deadline, _PREPARE_BUDGET)),
        )

    # -- before the session end ----------------------------------------------------------
    def placement_ahead(self, api: ZephyrApi) -> Placement | None:
        """The placement, resolved once for ``prepare`` and the stream (None if that
        failed: deliver resolves it again and reports the problem)."""
        with self._ahead_lock:
            if self._ahead_placement is None and not self._ahead_failed:
                try:
                    self._ahead_placement = resolve_placement(api, self.settings, self.status_map)
                except TmUploadError as exc:
                    self._ahead_failed = True
                    log.debug("resolving the placement ahead failed (deliver retries): %s", exc)
            return self._ahead_placement

    def prepare(self) -> None:
        """Look the placement and the cycle up (never create them) while the tests run. A
        problem here is left for ``deliver`` to find and report."""
        try:
            with self.background_client() as http:
                api = ZephyrApi(http)
                placement = self.placement_ahead(api)
                if placement is None:
                    return
                cycle = find_cycle(api, placement.release_id, str(self.settings.option("cycle")))
                with self._ahead_lock:
                    if self._ahead_cycle is None:
                        self._ahead_cycle = cycle
        except TmUploadError as exc:
            log.debug("looking the cycle up ahead failed (deliver retries): %s", exc)

    def stream(self, *, may_send: bool) -> ZephyrStream:
        """Each case's place as its test ends; with ``may_send``, the repository too
        (``stream.py``)."""
        self._stream = ZephyrStream(self, may_send=may_send)
        return self._stream

    def _places(
        self, run: RunReport, seen: dict[str, tuple[Any, Path, str]] | None = None
    ) -> dict[str, tuple[Path, str]]:
        """case id -> (folder path, test case name); from ``seen`` (the stream's) for a case
        it saw at the same place."""
        root = list(self.root)
        places: dict[str, tuple[Path, str]] = {}
        for case in run.cases:
            hint = seen.get(case.case_id) if seen else None
            if hint is not None and same_place(hint[0], case):
                places[case.case_id] = (hint[1], hint[2])
            else:
                places[case.case_id] = case_place(case, root)
        return places

    def _keys(self, run: RunReport, requests: list[LinkRequest]) -> dict[str, list[str]]:
        """case id -> the defect keys its notes carry (the link policy's, and a failure's
        own tickets even under --tm-no-link: notes are not links)."""
        keys: dict[str, list[str]] = {}
        for request in requests:
            keys.setdefault(request.case_id, []).append(request.key)
        for case in run.cases:
            if case.outcome.is_failure:
                own = keys.setdefault(case.case_id, [])
                own.extend(t.key for t in case.tickets if t.key not in own)
        return keys

    # -- dry run -------------------------------------------------------------------------
    def plan(self, run: RunReport) -> Delivery:
        """Only GET requests: what would be created, set and linked."""
        delivery = Delivery(target=self.name)
        with self._client() as http:
            api = ZephyrApi(http)
            placement = resolve_placement(api, self.settings, self.status_map)
            folders = Folders(api, placement.release_id, None, create=False)
            places = self._places(run)
            wanted: dict[str, tuple[int, str]] = {}
            new_cases = 0
            for case_id, (path, name) in places.items():
                folder = folders.resolve(path)
                if folder is None:
                    new_cases += 1
                else:
                    wanted[case_id] = (folder, name)
            cases = Cases(api, placement.project_id, placement.release_id, None, quiet)
            new_cases += len(wanted) - len(cases.existing(wanted))
            delivery.plan = [f"would create repository folder {p}" for p in folders.created]
            delivery.plan.append(
                f"would create {new_cases} test case(s); {len(places) - new_cases} exist"
            )
            cycle = str(self.settings.option("cycle"))
            if find_cycle(api, placement.release_id, cycle) is None:
                delivery.plan.append(f"would create cycle {cycle!r}")
            delivery.plan.append(
                f"would create phase {cut_name(run.name)!r} in cycle {cycle!r} (release "
                f"{placement.release_name!r}) with {len(places)} execution(s): "
                + _status_counts(run, placement)
            )
            pairs = link_requests(run, self.settings)
            delivery.plan.append(f"would link {len(pairs)} defect(s) to failing executions")
            delivery.requests = http.requests_sent
        return delivery

    # -- delivery ------------------------------------------------------------------------
    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        delivery = Delivery(target=self.name)
        stream, self._stream = self._stream, None  # a stream serves one delivery
        found = stream.finish() if stream is not None else None
        with self._client() as http:
            try:
                self._deliver(ZephyrApi(http), run, journal, delivery, stream, found)
            finally:
                delivery.requests = http.requests_sent
                delivery.bytes_sent = http.bytes_sent
        return delivery

    def _deliver(
        self,
        api: ZephyrApi,
        run: RunReport,
        journal: Journal,
        out: Delivery,
        stream: ZephyrStream | None,
        found: Found | None,
    ) -> None:
        progress = self._progress
        # Links and attachments come after the statuses: if those were done by an earlier
        # attempt, that attempt may have made some (look before making them again).
        resuming = journal.done("statuses") is not None
        placed = journal.done("placement")
        if placed is None:
            ahead = self._ahead_placement
            if ahead is None:
                progress("resolving the Zephyr project, release and statuses")
                ahead = resolve_placement(api, self.settings, self.status_map)
            placed = ahead.as_data()
            journal.finish("placement", placed)
        placement = Placement.from_data(placed)
        if found is not None and (
            found.placement is None or found.placement.release_id != placement.release_id
        ):
            found = None  # found for another placement: no use here

        cases = journal.done("testcases")
        # case id -> (folder, tct id, version id): the journal's own map, one tuple a case
        # (a million cases: no second map of records beside it).
        refs: dict[str, tuple[int, int, int]]
        if cases is None:
            refs = self._repository(api, run, placement, journal, stream, found)
            journal.finish("testcases", {"cases": refs})
        else:
            refs = {case: (int(v[0]), int(v[1]), int(v[2])) for case, v in cases["cases"].items()}

        phases: list[dict[str, Any]] | None = None
        cycle = journal.done("cycle")
        if cycle is None:
            progress("finding the Zephyr cycle")
            found_cycle, phases = self._cycle(api, placement, run, journal, found)
            cycle = {k: found_cycle.get(k) for k in ("id", "name", "startDate", "endDate")}
            journal.finish("cycle", cycle)

        phase = journal.done("phase")
        if phase is None:
            progress("creating this upload's phase")
            phase = create_phase(api, cycle, placement.release_id, run, journal, phases)
            journal.finish("phase", phase)

        mapped = journal.done("executions")
        if mapped is None:
            # "add" and "assign": the intents of entries journaled by an earlier version
            steps = ("executions", "add", "assign")
            again = any(journal.intent(step) is not None for step in steps)
            scheduler = Scheduler(
                api,
                phase,
                placement.tester_id,
                journal,
                progress,
                concurrency=min(_WRITE_CONCURRENCY, self.settings.link_concurrency),
            )
            by_folder: dict[int, list[TctRef]] = {}
            for folder, tct, version in dict.fromkeys(refs.values()):  # once each, in order
                by_folder.setdefault(folder, []).append(TctRef(tct, version))
            executions = scheduler.run(by_folder, again)
            del by_folder
            # Tuples, not lists: one a case (journaled as JSON arrays all the same).
            mapped = {
                case: (executions[version].id, executions[version].status)
                for case, (_, _, version) in refs.items()
            }
            del executions, scheduler  # a record an execution: mapped now
            journal.finish("executions", mapped)

        requests = link_requests(run, self.settings)
        read = journal.done("readback")
        if read is None:
            done = journal.done("statuses")
            if done is None:
                read = self._statuses(api, run, placement, mapped, journal, requests)
                journal.finish("statuses", {"read": read} if read is not None else {})
            else:
                read = done.get("read")
        if read is None:
            progress("reading the executions back")
            listed = read_executions(api, phase["phase"])
            read = {
                case: listed[version].status
                for case, (_, _, version) in refs.items()
                if version in listed
            }
            journal.finish("readback", read)
        names = placement.status_names

        def status_of(case: str) -> str | None:
            word = read.get(case)
            return names.get(word or "", word)

        out.results = ResultMap(mapped, status_of, lambda execution: str(execution[0]))
        out.unmapped = [c.case_id for c in run.cases if c.case_id not in read]
        out.totals = totals(run, placement, mapped, read)
        out.run = self._run_ref(api.http, placement, cycle, phase, run, read, mapped)

        # Only the cases a link or a file goes to (a million cases, a few thousand of those).
        needed = {r.case_id for r in requests}
        needed.update(case.case_id for case in run.cases if case.attachments)
        executions_of = {case: int(mapped[case][0]) for case in needed if case in mapped}
        if requests:
            linker = DefectLinker(
                api, executions_of, trouble_channel(progress), look_first=resuming
            )

            def link_one(request: LinkRequest) -> LinkResult:
                return linker.link(request)

            out.links = link_all(
                requests,
                link_one,
                journal,
                concurrency=self.settings.link_concurrency,
                progress=progress,
            )
        if any(case.attachments for case in run.cases):
            look_first = journal.intent("attachments") is not None
            journal.declare("attachments", {"phase": phase.get("phase")})
            files = ExecutionFiles(api, executions_of, placement.tester_id, look_first=look_first)
            out.attachments = files.send_all(run, journal, progress=progress)

    def _repository(
        self,
        api: ZephyrApi,
        run: RunReport,
        placement: Placement,
        journal: Journal,
        stream: ZephyrStream | None,
        found: Found | None,
    ) -> dict[str, tuple[int, int, int]]:
        """case id -> (folder id, tct id, version id), creating what is missing; from what
        the stream found where it can."""
        self._progress("finding the repository folders and test cases")
        folders = Folders(api, placement.release_id, journal, create=True)
        cases = Cases(
            api,
            placement.project_id,
            placement.release_id,
            journal,
            self._progress,
            concurrency=self.settings.link_concurrency,
        )
        if found is not None:
            folders.ids.update(found.folders)
            folders.fresh.update(found.fresh)
            cases.known.update(found.known)
        seen = stream.places if stream is not None else {}
        root = list(self.root)
        wanted: dict[str, tuple[int, str]] = {}
        by_path: dict[Path, int] = {}
        for case in run.cases:
            hint = seen.get(case.case_id)
            if hint is not None and same_place(hint[0], case):
                path, name = hint[1], hint[2]
            else:
                path, name = case_place(case, root)
            folder = by_path.get(path)
            if folder is None:
                folder = by_path[path] = folders.resolve(path) or 0
            wanted[case.case_id] = (folder, name)
        cases.list_folders([], empty=folders.fresh)
        refs = cases.ensure(wanted)
        return {case: (wanted[case][0], refs[case].tct, refs[case].version) for case in wanted}

    def _cycle(
        self,
        api: ZephyrApi,
        placement: Placement,
        run: RunReport,
        journal: Journal,
        found: Found | None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        """(the cycle, its phases as just read or None); one found ahead is read again (it
        must still be there, in this release, and its phases are needed as they are now)."""
        name = str(self.settings.option("cycle"))
        ahead = found.cycle if found is not None else None
        prepared = self._ahead_placement
        if ahead is None and prepared is not None and prepared.release_id == placement.release_id:
            ahead = self._ahead_cycle  # prepare's, looked up in this release
        ahead_id = as_id(ahead.get("id")) if ahead is not None else None
        if ahead_id is not None:
            try:
                cycle = api.cycle(ahead_id)
            except ServerRejected:
                cycle = {}
            release = as_id(cycle.get("releaseId"))
            if (
                as_id(cycle.get("id")) == ahead_id
                and cycle.get("name") == name
                and release in (None, placement.release_id)
            ):
                phases = cycle.get("cyclePhases")
                return cycle, phases if isinstance(phases, list) else None
        cycle = ensure_cycle(
            api, placement.release_id, name, run.started_at, journal, self.settings.build
        )
        phases = cycle.get("cyclePhases")
        return cycle, phases if isinstance(phases, list) else None

    def _statuses(
        self,
        api: ZephyrApi,
        run: RunReport,
        placement: Placement,
        mapped: dict[str, Any],
        journal: Journal,
        requests: list[LinkRequest],
    ) -> dict[str, str] | None:
        """Set every status; case id -> status as the answers showed them (None when they
        did not show every execution sent: the caller reads them back)."""
        keys = self._keys(run, requests)
        planned: list[Planned] = []
        unsent: dict[str, str] = {}
        by_outcome = {outcome: placement.statuses[outcome.value] for outcome in Outcome}
        for case in run.cases:
            rts, current = mapped[case.case_id]
            status = by_outcome[case.outcome]
            own = keys.get(case.case_id)
            if own or case.attempts or case.message or case.details or case.outcome not in _PLAIN:
                note = notes(case, own or [])
            else:
                note = ""  # what notes() says of a plain pass: nothing (saves 10,000 calls)
            if status is None and not note:
                unsent[case.case_id] = str(current)  # left as it is: not sent
            planned.append(
                Planned(
                    int(rts),
                    status if status is not None else str(current),
                    note,
                    case.duration,
                    status is None,
                )
            )
        writer = StatusWriter(
            api,
            placement.tester_id,
            epoch_ms(run.finished_at),
            journal,
            self._progress,
            trouble_channel(self._progress),
            concurrency=min(_WRITE_CONCURRENCY, self.settings.link_concurrency),
        )
        writer.run(planned)
        del planned  # sent: a record a case, let go before the statuses are mapped
        answered = writer.read
        read: dict[str, str] = {}
        for case_id, (rts, _) in mapped.items():
            status = answered.get(int(rts))
            if status is None:
                status = unsent.get(case_id)
                if status is None:
                    return None
            read[case_id] = status
        return read

    def _run_ref(
        self,
        http: HttpClient,
        placement: Placement,
        cycle: dict[str, Any],
        phase: dict[str, Any],
        run: RunReport,
        read: dict[str, str],
        mapped: dict[str, Any],
    ) -> RunRef:
        """The phase. The reference gives no web-UI address, so ``where`` says how to find
        it; ``api_url`` lists its executions."""
        where = (
            f"Test Execution › release {placement.release_name} › cycle {cycle.get('name')} "
            f"› phase {cut_name(run.name)} (project {placement.project_name})"
        )
        return RunRef(
            id=str(phase["phase"]),
            url=None,
            api_url=http.url(f"execution?cyclephaseid={phase['phase']}"),
            status=run_status(read, mapped),
            where=where,
        )


def _status_counts(run: RunReport, placement: Placement) -> str:
    counts: dict[str, int] = {}
    for case in run.cases:
        status = placement.statuses[case.outcome.value]
        word = "left unexecuted" if status is None else placement.status_names.get(status, status)
        counts[word] = counts.get(word, 0) + 1
    return ", ".join(f"{word} {count}" for word, count in counts.items())
