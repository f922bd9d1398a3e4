"""The qTest Manager target: DESIGN §3b on top of ``QTestApi``.

Steps, each journaled before the next begins: ``placement`` (project, release, parent cycle
path), ``submitted`` (every chunk landed, see submit.py), ``mapped`` (the runs under the
cycle mapped to the cases), then the links (``linking.link_all``, one journal item each).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx

from tmupload.http.client import HttpClient
from tmupload.linking import LinkRequest, link_all, link_requests
from tmupload.models import Outcome, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    AttachmentResult,
    Delivery,
    Journal,
    LinkResult,
    Progress,
    ResultRef,
    RunRef,
    quiet,
    trouble_channel,
)
from tmupload.targets.qtest.api import QTestApi, qtest_client
from tmupload.targets.qtest.linking import Linker
from tmupload.targets.qtest.payload import build_logs, parse_status_map
from tmupload.targets.qtest.placement import Placement, resolve_placement
from tmupload.targets.qtest.readback import RunIndex, neutral_total, run_status
from tmupload.targets.qtest.submit import Submitter, chunk_ranges

__all__ = ["QTestTarget"]

TITLE = "qTest Manager"

# A status name the totals do not know is counted by the outcome the case was sent with.
_BY_OUTCOME = {
    Outcome.PASSED: "passed",
    Outcome.XPASSED: "passed",
    Outcome.FAILED: "failed",
    Outcome.ERROR: "errors",
    Outcome.SKIPPED: "skipped",
    Outcome.XFAILED: "skipped",
}


class QTestTarget:
    """Deliver a RunReport to qTest Manager as one test log per case under a parent cycle."""

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
        self.status_map: dict[str, str] = parse_status_map(
            settings.option("status_map"), settings.names("status_map")
        )

    def describe(self) -> str:
        s = self.settings
        release = s.option("release")
        where = f"test cycle {s.option('cycle')!r}" + (
            f" in release {release!r}" if release else ""
        )
        return f"{s.url} project {s.project!r} ({TITLE}, {where})"

    def _client(self) -> HttpClient:
        return qtest_client(
            self.settings, transport=self._transport, on_retry=trouble_channel(self._progress)
        )

    def _placement(self, api: QTestApi, *, create: bool, journal: Journal | None) -> Placement:
        s = self.settings
        assert s.project is not None
        return resolve_placement(
            api,
            project=s.project,
            cycle_path=s.option("cycle"),
            release=s.option("release"),
            create=create,
            journal=journal,
        )

    # -- dry run -------------------------------------------------------------------------
    def plan(self, run: RunReport) -> Delivery:
        """Only GET requests: what would be created, submitted and linked."""
        delivery = Delivery(target=self.name)
        logs = build_logs(run, self.status_map)
        with self._client() as http:
            api = QTestApi(http)
            placement = self._placement(api, create=False, journal=None)
            delivery.plan = [f"would create {what}" for what in placement.created]
            sizes = {p: len(json.dumps(log)) for p, log in enumerate(logs)}
            chunks = len(chunk_ranges(sizes)) if logs else 0
            statuses = Counter(log["status"] for log in logs)
            where = self.settings.option("cycle")
            delivery.plan.append(
                f"would submit {len(logs)} test logs in {chunks} chunk(s) under test cycle "
                f"{where!r} (statuses: "
                + ", ".join(f"{status} {count}" for status, count in statuses.items())
                + ")"
            )
            if placement.cycle_id is not None:
                index = RunIndex.read(api, placement.project_id, placement.cycle_id)
                reused = sum(1 for case in run.cases if index.run_for(case.case_id))
                delivery.plan.append(
                    f"{reused} of them add a log to an existing test run; "
                    f"{len(logs) - reused} would get a new test run"
                )
            pairs = link_requests(run, self.settings)
            delivery.plan.append(f"would link {len(pairs)} ticket(s) to failing test logs")
            delivery.run = _run_ref(http, placement.as_data()) if placement.cycle_id else None
            delivery.requests = http.requests_sent
        return delivery

    # -- delivery ------------------------------------------------------------------------
    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        delivery = Delivery(target=self.name)
        with self._client() as http:
            try:
                self._deliver(QTestApi(http), run, journal, delivery)
            finally:
                delivery.requests = http.requests_sent
                delivery.bytes_sent = http.bytes_sent
        return delivery

    def _deliver(self, api: QTestApi, run: RunReport, journal: Journal, delivery: Delivery) -> None:
        progress = self._progress
        placed = journal.done("placement")
        if placed is None:
            progress("resolving the qTest project and test cycle")
            placed = self._placement(api, create=True, journal=journal).as_data()
            journal.finish("placement", placed)
        project_id, cycle_id = str(placed["project_id"]), str(placed["cycle_id"])
        logs = build_logs(run, self.status_map)

        submitted = journal.done("submitted")
        if submitted is None:
            submitter = Submitter(api, project_id, cycle_id, logs, journal, progress)
            submitter.run()
            stripped = sorted(run.cases[index].case_id for index in submitter.stripped)
            submitted = {"jobs": submitter.jobs, "stripped": stripped}
            journal.finish("submitted", submitted)
        delivery.run = _run_ref(api.http, placed, status="SUCCESS")
        # The files travelled inside the test logs (ref §3.4): they landed with them, unless
        # the server refused a log as too large with them.
        refused = set(submitted.get("stripped") or ())
        delivery.attachments = [
            AttachmentResult(case.case_id, item.name, item.size, "sent")
            if case.case_id not in refused
            else AttachmentResult(
                case.case_id, item.name, item.size, "left_out", "the test log was too large"
            )
            for case in run.cases
            for item in case.attachments
        ]

        mapped = journal.done("mapped")
        if mapped is None:
            progress("reading the test runs back")
            mapped = _map(api, project_id, cycle_id, run)
            journal.finish("mapped", mapped)
        runs: dict[str, str] = dict(mapped["runs"])
        statuses: dict[str, str] = dict(mapped["statuses"])
        delivery.results = {case: ResultRef(runs[case], statuses.get(case)) for case in runs}
        delivery.unmapped = list(mapped["unmapped"])
        delivery.totals = _totals(run, statuses)

        sent = {case.case_id: log for case, log in zip(run.cases, logs, strict=True)}
        linker = Linker(api, project_id, runs, sent)

        def link_one(request: LinkRequest) -> LinkResult:
            return linker.link(request)

        delivery.links = link_all(
            link_requests(run, self.settings),
            link_one,
            journal,
            concurrency=self.settings.link_concurrency,
            progress=progress,
        )


def _map(api: QTestApi, project_id: str, cycle_id: str, run: RunReport) -> dict[str, Any]:
    index = RunIndex.read(api, project_id, cycle_id)
    runs: dict[str, str] = {}
    statuses: dict[str, str] = {}
    unmapped: list[str] = []
    for case in run.cases:
        found = index.run_for(case.case_id)
        if found is None:
            unmapped.append(case.case_id)
            continue
        runs[case.case_id] = str(found["id"])
        statuses[case.case_id] = run_status(found) or ""
    return {"runs": runs, "statuses": statuses, "unmapped": unmapped}


def _totals(run: RunReport, statuses: dict[str, str]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for case in run.cases:
        if case.case_id not in statuses:
            continue
        key = neutral_total(statuses[case.case_id]) or _BY_OUTCOME[case.outcome]
        totals[key] += 1
    return dict(totals)


def _run_ref(http: HttpClient, placed: dict[str, Any], status: str | None = None) -> RunRef:
    """The parent cycle: what a person opens in qTest's Test Execution tab."""
    project_id, cycle_id = placed["project_id"], placed["cycle_id"]
    web = placed.get("cycle_url")
    if not web or not http.is_same_origin(str(web)):
        web = http.url(f"p/{project_id}/portal/project#tab=testexecution&object=2&id={cycle_id}")
    api_url = http.url(f"api/v3/projects/{project_id}/test-cycles/{cycle_id}")
    # ``status``: the state of the queue jobs (ref §4), the closest thing to a run's state.
    return RunRef(
        id=str(placed.get("cycle_pid") or cycle_id), url=str(web), api_url=api_url, status=status
    )
