"""The Zephyr Enterprise target: DESIGN §3c on top of ``ZephyrApi``.

Steps, each journaled before the next begins, so that a resend resumes where it stopped:
``placement`` (tester, project, release, the status map checked against the server — before
any write), ``folder:<path>`` for each repository folder, ``testcases`` (every case's test
case, found or created), ``cycle``, ``phase`` (this upload's own), ``executions`` (cases
added, assigned and mapped to executions), the ``statuses`` batches, ``readback``, then the
links (``linking.link_all``, one journal item each). Every creation declares an intent first
and a resume looks up by name before creating again (ref §5: no idempotency).
"""

from __future__ import annotations

from typing import Any

import httpx

from tmupload.attachments import send_all
from tmupload.http.client import HttpClient
from tmupload.linking import LinkRequest, link_all, link_requests
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    Delivery,
    Journal,
    LinkResult,
    Progress,
    ResultRef,
    RunRef,
    quiet,
    trouble_channel,
)
from tmupload.targets.zephyr.api import ZephyrApi, zephyr_client
from tmupload.targets.zephyr.files import ExecutionFiles
from tmupload.targets.zephyr.linking import DefectLinker
from tmupload.targets.zephyr.payload import case_place, cut_name, epoch_ms, notes, split_path
from tmupload.targets.zephyr.placement import Placement, resolve_placement
from tmupload.targets.zephyr.readback import run_status, totals
from tmupload.targets.zephyr.repository import Cases, Folders, TctRef
from tmupload.targets.zephyr.schedule import (
    Scheduler,
    create_phase,
    ensure_cycle,
    find_cycle,
    read_executions,
)
from tmupload.targets.zephyr.statusmap import parse_status_map
from tmupload.targets.zephyr.submit import Planned, StatusWriter

__all__ = ["ZephyrTarget"]

TITLE = "Zephyr Enterprise"


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

    def describe(self) -> str:
        s = self.settings
        return (
            f"{s.url} project {s.project!r} ({TITLE}, release {s.option('release')!r}, "
            f"cycle {s.option('cycle')!r})"
        )

    def _client(self) -> HttpClient:
        return zephyr_client(
            self.settings, transport=self._transport, on_retry=trouble_channel(self._progress)
        )

    def _places(self, run: RunReport) -> dict[str, tuple[tuple[str, ...], str]]:
        root = split_path(self.settings.option("repository_folder")) or ["Automation"]
        return {case.case_id: case_place(case, root) for case in run.cases}

    def _keys(self, run: RunReport) -> dict[str, list[str]]:
        """case id -> the defect keys its notes carry (the link policy's, and a failure's
        own tickets even under --tm-no-link: notes are not links)."""
        keys: dict[str, list[str]] = {}
        for request in link_requests(run, self.settings):
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
        with self._client() as http:
            try:
                self._deliver(ZephyrApi(http), run, journal, delivery)
            finally:
                delivery.requests = http.requests_sent
                delivery.bytes_sent = http.bytes_sent
        return delivery

    def _deliver(self, api: ZephyrApi, run: RunReport, journal: Journal, out: Delivery) -> None:
        progress = self._progress
        placed = journal.done("placement")
        if placed is None:
            progress("resolving the Zephyr project, release and statuses")
            placed = resolve_placement(api, self.settings, self.status_map).as_data()
            journal.finish("placement", placed)
        placement = Placement.from_data(placed)

        cases = journal.done("testcases")
        if cases is None:
            cases = {"cases": self._repository(api, run, placement, journal)}
            journal.finish("testcases", cases)
        refs = {
            case: (int(v[0]), TctRef(int(v[1]), int(v[2]))) for case, v in cases["cases"].items()
        }

        cycle = journal.done("cycle")
        if cycle is None:
            progress("finding the Zephyr cycle")
            name = str(self.settings.option("cycle"))
            found = ensure_cycle(api, placement.release_id, name, run, journal)
            cycle = {k: found.get(k) for k in ("id", "name", "startDate", "endDate")}
            journal.finish("cycle", cycle)

        phase = journal.done("phase")
        if phase is None:
            progress("creating this upload's phase")
            phase = create_phase(api, cycle, placement.release_id, run, journal)
            journal.finish("phase", phase)

        mapped = journal.done("executions")
        if mapped is None:
            resuming = journal.intent("executions") is not None
            scheduler = Scheduler(api, phase, placement.tester_id, journal, progress)
            by_folder: dict[int, list[TctRef]] = {}
            for folder, ref in dict.fromkeys(refs.values()):  # once each, in run order
                by_folder.setdefault(folder, []).append(ref)
            planned = scheduler.add_cases(by_folder, resuming)
            executions = scheduler.assign(planned)
            mapped = {
                case: [executions[ref.version].id, executions[ref.version].status]
                for case, (_, ref) in refs.items()
            }
            journal.finish("executions", mapped)

        if journal.done("statuses") is None:
            self._statuses(api, run, placement, mapped, journal)
            journal.finish("statuses", {})

        read = journal.done("readback")
        if read is None:
            progress("reading the executions back")
            listed = read_executions(api, phase["phase"])
            read = {
                case: listed[ref.version].status
                for case, (_, ref) in refs.items()
                if ref.version in listed
            }
            journal.finish("readback", read)
        names = placement.status_names
        out.results = {
            case: ResultRef(str(mapped[case][0]), names.get(read.get(case, ""), read.get(case)))
            for case in mapped
        }
        out.unmapped = [c.case_id for c in run.cases if c.case_id not in read]
        out.totals = totals(run, placement, mapped, read)
        out.run = self._run_ref(api.http, placement, cycle, phase, run, read, mapped)

        linker = DefectLinker(
            api, {case: int(v[0]) for case, v in mapped.items()}, trouble_channel(progress)
        )

        def link_one(request: LinkRequest) -> LinkResult:
            return linker.link(request)

        out.links = link_all(
            link_requests(run, self.settings),
            link_one,
            journal,
            concurrency=self.settings.link_concurrency,
            progress=progress,
        )
        if any(case.attachments for case in run.cases):
            look_first = journal.intent("attachments") is not None
            journal.declare("attachments", {"phase": phase.get("phase")})
            files = ExecutionFiles(
                api,
                {case: int(v[0]) for case, v in mapped.items()},
                placement.tester_id,
                look_first=look_first,
            )
            out.attachments = send_all(
                run,
                files.send,
                journal,
                concurrency=self.settings.link_concurrency,
                progress=progress,
            )
            if all(item.status == "sent" for item in out.attachments):
                journal.finish("attachments", {"sent": len(out.attachments)})

    def _repository(
        self, api: ZephyrApi, run: RunReport, placement: Placement, journal: Journal
    ) -> dict[str, list[int]]:
        """case id -> [folder id, tct id, version id], creating what is missing."""
        self._progress("finding the repository folders and test cases")
        folders = Folders(api, placement.release_id, journal, create=True)
        wanted: dict[str, tuple[int, str]] = {}
        for case_id, (path, name) in self._places(run).items():
            folder = folders.resolve(path)
            assert folder is not None
            wanted[case_id] = (folder, name)
        found = Cases(
            api, placement.project_id, placement.release_id, journal, self._progress
        ).ensure(wanted)
        return {case: [wanted[case][0], *found[case].as_data()] for case in wanted}

    def _statuses(
        self,
        api: ZephyrApi,
        run: RunReport,
        placement: Placement,
        mapped: dict[str, Any],
        journal: Journal,
    ) -> None:
        keys = self._keys(run)
        planned: list[Planned] = []
        for case in run.cases:
            rts, current = mapped[case.case_id]
            status = placement.statuses[case.outcome.value]
            planned.append(
                Planned(
                    rts=int(rts),
                    status=status if status is not None else str(current),
                    notes=notes(case, keys.get(case.case_id, [])),
                    duration=case.duration,
                    unexecuted=status is None,
                )
            )
        writer = StatusWriter(
            api,
            placement.tester_id,
            epoch_ms(run.finished_at),
            journal,
            self._progress,
            trouble_channel(self._progress),
        )
        writer.run(planned)

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
