"""The qTest Manager target: docs/servers/qtest.md §10 on top of ``QTestApi``.

Steps, each journaled before the next begins: ``placement`` (project, release, parent cycle
path), ``stream`` (what was submitted while the tests ran, see stream.py), ``submitted``
(every chunk landed, see submit.py), ``mapped`` (the runs and logs of the cases: from what
the queue jobs said, else read back under the cycle), then the links (``linking.link_all``,
one journal item each).

While the tests run, ``prepare`` looks the placement up and the stream (``stream``) makes
each log ahead of time and, on an xdist controller, submits the full chunks; ``deliver``
then sends only the rest, and reads back only what the jobs did not say.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from datetime import datetime, timezone
from typing import Any

from tmupload.errors import TmUploadError
from tmupload.http.client import HttpClient
from tmupload.linking import link_requests
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    AttachmentResult,
    Delivery,
    Journal,
    Progress,
    ResultMap,
    RunRef,
)
from tmupload.targets.qtest.api import QTEST_CLIENT, QTestApi
from tmupload.targets.qtest.linking import Linker
from tmupload.targets.qtest.payload import RunLogs, parse_status_map
from tmupload.targets.qtest.placement import placement_for
from tmupload.targets.qtest.preflight import preflight
from tmupload.targets.qtest.readback import NOT_RUN, RunIndex, run_status
from tmupload.targets.qtest.stream import Handoff, QTestStream
from tmupload.targets.qtest.submit import Landed, Submitter, chunk_ranges
from tmupload.targets.qtest.templates import RunLogSource
from tmupload.targets.statusmap import BY_OUTCOME, neutral_total
from tmupload.targets.toolkit.steps import (
    MAPPED,
    PLACEMENT,
    STREAM,
    SUBMITTED,
    once,
    placement_or_prepared,
)
from tmupload.targets.toolkit.target import ServerTarget

__all__ = ["QTestTarget"]

TITLE = "qTest Manager"

log = logging.getLogger("tmupload.qtest")


class QTestTarget(ServerTarget):
    """Deliver a RunReport to qTest Manager as one test log per case under a parent cycle."""

    name = TITLE
    recipe = QTEST_CLIENT

    def _configure(self) -> None:
        settings = self.settings
        # A bad map is a ConfigError here, before anything runs: the plugin builds the target
        # when pytest starts, so the session stops with one message instead of uploading late.
        self.status_map: dict[str, str] = parse_status_map(
            settings.option("status_map"), settings.names("status_map")
        )
        # The stream's logs are dated from here: the courier builds the target as the session
        # starts, within a second of its start (see stream.py, "Dates": every log of the run,
        # the tail and resends too, then carries this one date).
        self._anchor = datetime.now(timezone.utc)
        self._stream: QTestStream | None = None
        self._prepared: dict[str, Any] | None = None  # placement found while the tests ran

    def describe(self) -> str:
        return preflight(self.settings)

    def prepare(self) -> None:
        """Look the placement up (never create it) while the tests run; when the parent
        cycle exists, the session end starts with the upload. A problem here is left for
        ``deliver`` to find and report."""
        try:
            with self.connection.background_client() as http:
                placement = placement_for(QTestApi(http), self.settings, create=False, journal=None)
        except TmUploadError as exc:
            log.debug("preparing the placement failed (the upload will retry): %s", exc)
            return
        if placement.cycle_id is not None:
            self._prepared = placement.as_data()

    def stream(self, *, may_send: bool) -> QTestStream:
        """Make each log as its test ends; with ``may_send``, submit full chunks while the
        tests run (see stream.py for what that means for durability)."""
        if may_send and not _could_write(self.settings):
            may_send = False  # a run that cannot be spooled must not be half sent
        self._stream = QTestStream(
            self.settings,
            self.status_map,
            may_send=may_send,
            anchor=self._anchor,
            transport=self.connection.transport,
        )
        return self._stream

    def _handoff(self, run: RunReport) -> Handoff | None:
        """What this session's stream did (once: a resend has no stream)."""
        stream, self._stream = self._stream, None
        if stream is None:
            return None
        handoff = stream.handoff(run)
        if stream.error is not None:
            log.debug("the stream stopped early: %s", stream.error)
        return handoff

    # -- dry run -------------------------------------------------------------------------
    def plan(self, run: RunReport) -> Delivery:
        """Only GET requests: what would be created, submitted and linked."""
        delivery = Delivery(target=self.name)
        logs = RunLogs(run, self.status_map)
        with self._client() as http:
            api = QTestApi(http)
            placement = placement_for(api, self.settings, create=False, journal=None)
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
        return self._delivering(lambda http, out: self._deliver(QTestApi(http), run, journal, out))

    def _deliver(self, api: QTestApi, run: RunReport, journal: Journal, delivery: Delivery) -> None:
        handoff = self._handoff(run)
        placed = self._placement_step(api, journal, handoff)
        project_id, cycle_id = str(placed["project_id"]), str(placed["cycle_id"])
        logs = self._log_source(run, journal, handoff)
        landed, submitted = self._submit_step(
            api, run, (project_id, cycle_id), logs, journal, handoff
        )
        delivery.run = _run_ref(api.http, placed)
        delivery.attachments = _attachments(run, set(submitted.get("stripped") or ()))

        pairs = link_requests(run, self.settings)
        linked = {request.case_id for request in pairs}
        # No earlier attempt reached the links (they come after this step): the logs are
        # this delivery's own, and no link can be on them yet.
        fresh = journal.done(MAPPED) is None
        mapped = once(
            journal,
            MAPPED,
            lambda: _map(api, project_id, cycle_id, run, landed, linked, self._progress),
        )
        landed.clear()  # mapped now: let it go before the results are made
        # Read only from here on: the journal's own maps, not copies (a million ids each).
        runs: dict[str, str] = mapped["runs"]
        statuses: dict[str, str] = mapped["statuses"]
        delivery.results = ResultMap(runs, statuses.get)
        delivery.unmapped = list(mapped["unmapped"])
        delivery.totals = _totals(run, statuses)

        log_ids: dict[str, str] = dict(mapped.get("logs") or {})
        sent = {
            case.case_id: logs.log(n)
            for n, case in enumerate(run.cases)
            if case.case_id in linked and case.case_id not in log_ids
        }
        linker = Linker(api, project_id, runs, sent, log_ids=log_ids, fresh=fresh)
        delivery.links = self._link_all(pairs, linker.link, journal)

    def _log_source(
        self, run: RunReport, journal: Journal, handoff: Handoff | None
    ) -> RunLogSource:
        """The run's logs, built one at a time when sent or looked for (payload.RunLogs), or
        completed from what the stream made while the tests ran; dated as the stream's were."""
        streamed = journal.done(STREAM)
        anchor = datetime.fromisoformat(str(streamed["anchor"])) if streamed else None
        templates = handoff.templates if handoff is not None else None
        return RunLogSource(run, self.status_map, anchor, templates)

    def _submit_step(
        self,
        api: QTestApi,
        run: RunReport,
        where: tuple[str, str],
        logs: RunLogSource,
        journal: Journal,
        handoff: Handoff | None,
    ) -> tuple[dict[int, Landed], dict[str, Any]]:
        """Every log not landed yet, submitted in chunks under the cycle (``where``: project
        and cycle ids); (where each log landed as its job said, the journaled step)."""
        landed: dict[int, Landed] = {}

        def submit_all() -> dict[str, Any]:
            nonlocal landed
            handed = handoff.take_landed() if handoff is not None else None
            submitter = Submitter(
                api,
                *where,
                logs,
                journal,
                self._progress,
                handed=journal.done(STREAM),
                landed=handed,
            )
            submitter.run()
            # What landed is ``landed`` now (cleared once mapped); the submitter's other
            # per-log state is not needed again.
            landed = submitter.landed
            stripped = sorted(run.cases[index].case_id for index in submitter.stripped)
            return {"jobs": submitter.jobs, "stripped": stripped}

        submitted = once(journal, SUBMITTED, submit_all)
        return landed, submitted

    def _placement_step(
        self, api: QTestApi, journal: Journal, handoff: Handoff | None
    ) -> dict[str, Any]:
        """The placement: what the stream sent to goes in the journal before anything else
        is sent; else as journaled, found ahead, or resolved now (creating the cycle)."""
        placed = journal.done(PLACEMENT)
        if handoff is not None and handoff.placed is not None:
            if placed is None:
                placed = handoff.placed
                journal.finish(PLACEMENT, placed)
            if str(placed["cycle_id"]) != str(handoff.placed["cycle_id"]):
                log.warning("the stream sent to another test cycle than this entry's")
            elif handoff.step is not None and journal.done(STREAM) is None:
                journal.finish(STREAM, handoff.step)
        if placed is None:
            placed = placement_or_prepared(journal, self._prepared)
        if placed is None:
            self._progress("resolving the qTest project and test cycle")
            placed = placement_for(api, self.settings, create=True, journal=journal).as_data()
            journal.finish(PLACEMENT, placed)
        return placed


def _attachments(run: RunReport, refused: set[str]) -> list[AttachmentResult]:
    """The files travelled inside the test logs (docs/servers/qtest.md §4.3): they landed with them,
    unless the server refused a log as too large with them."""
    return [
        AttachmentResult(case.case_id, item.name, item.size, "sent")
        if case.case_id not in refused
        else AttachmentResult(
            case.case_id, item.name, item.size, "left_out", "the test log was too large"
        )
        for case in run.cases
        for item in case.attachments
    ]


def _map(
    api: QTestApi,
    project_id: str,
    cycle_id: str,
    run: RunReport,
    landed: dict[int, Landed],
    linked: set[str],
    progress: Progress,
) -> dict[str, Any]:
    """Each case's run and status: as its queue job said (``landed``), else read back under
    the cycle (docs/servers/qtest.md §7.4, §8); the log ids the jobs named, for the cases to
    link."""
    runs: dict[str, str] = {}
    statuses: dict[str, str] = {}
    logs: dict[str, str] = {}
    missing: list[str] = []
    for position, case in enumerate(run.cases):
        found = landed.get(position)
        if found is None:
            missing.append(case.case_id)
            continue
        runs[case.case_id] = found.run
        statuses[case.case_id] = found.status
        if case.case_id in linked and found.log is not None:
            logs[case.case_id] = found.log
    unmapped: list[str] = []
    if missing:
        progress("reading the test runs back")
        index = RunIndex.read(api, project_id, cycle_id)
        for case_id in missing:
            run_found = index.run_for(case_id)
            if run_found is None:
                unmapped.append(case_id)
                continue
            runs[case_id] = str(run_found["id"])
            statuses[case_id] = run_status(run_found) or ""
    return {"runs": runs, "statuses": statuses, "logs": logs, "unmapped": unmapped}


def _totals(run: RunReport, statuses: dict[str, str]) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for case in run.cases:
        if case.case_id not in statuses:
            continue
        key = neutral_total(statuses[case.case_id], NOT_RUN) or BY_OUTCOME[case.outcome]
        totals[key] += 1
    return dict(totals)


def _could_write(settings: Settings) -> bool:
    """Whether the outbox exists writable or could be created (nothing is created here)."""
    folder = settings.outbox.resolve()
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK)
    return False


def _run_ref(http: HttpClient, placed: dict[str, Any]) -> RunRef:
    """The parent cycle: what a person opens in qTest's Test Execution tab.

    No ``status``: a cycle has no verdict of its own, and the queue jobs' state (SUCCESS once
    they are processed, docs/servers/qtest.md §5) says the import went through, not how the run went
    — the summary would read "8 passed, 4 failed (run status SUCCESS)". The totals say that."""
    project_id, cycle_id = placed["project_id"], placed["cycle_id"]
    web = placed.get("cycle_url")
    if not web or not http.is_same_origin(str(web)):
        web = http.url(f"p/{project_id}/portal/project#tab=testexecution&object=2&id={cycle_id}")
    api_url = http.url(f"api/v3/projects/{project_id}/test-cycles/{cycle_id}")
    return RunRef(id=str(placed.get("cycle_pid") or cycle_id), url=str(web), api_url=api_url)
