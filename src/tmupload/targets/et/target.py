"""The Enterprise Tester target: DESIGN §3 steps 1-8 on top of ``EtApi``.

Each finished step is recorded in the journal before the next begins, so that a resend
resumes where a delivery stopped and never repeats the (non-idempotent) upload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import httpx

from tmupload.errors import ServerProtocolError, TaskError
from tmupload.http import Deadline, HttpClient
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Delivery, Journal, LinkResult
from tmupload.targets.et.api import EtApi, EtTask
from tmupload.targets.et.linking import Linker, LinkJob
from tmupload.targets.et.payload import build_payload
from tmupload.targets.et.placement import Placement, resolve_placement
from tmupload.targets.et.runs import find_new_run, known_run_ids, map_nodes, parse_time

__all__ = ["EtTarget", "link_jobs"]

log = logging.getLogger("tmupload.et")

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


def link_jobs(
    run: RunReport, node_ids: dict[str, str], settings: Settings
) -> tuple[list[LinkJob], list[LinkResult]]:
    """The (case, key) pairs to link, and those that cannot be (no node on the server)."""
    jobs: list[LinkJob] = []
    missing: list[LinkResult] = []
    if settings.no_link:
        return jobs, missing
    for case in run.cases:
        if case.outcome.value not in settings.link_on:
            continue
        for key, system in _keys(case, settings):
            node_id = node_ids.get(case.case_id)
            if node_id is None:
                missing.append(
                    LinkResult(
                        case.case_id, key, "failed", "the server shows no result node for it"
                    )
                )
                continue
            jobs.append(LinkJob(case.case_id, node_id, key, system))
    return jobs, missing


def _keys(case: CaseResult, settings: Settings) -> list[tuple[str, str | None]]:
    keys = [(ticket.key, ticket.external_system_link) for ticket in case.tickets]
    extra = settings.link_failures
    if extra and case.outcome.is_failure and extra not in {key for key, _ in keys}:
        keys.append((extra, None))
    return keys


class EtTarget:
    """Deliver a RunReport to Enterprise Tester."""

    name = "Enterprise Tester"

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        progress: Progress = _noop,
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._progress = progress

    def describe(self) -> str:
        s = self.settings
        return (
            f"Enterprise Tester {s.url} project {s.project!r}, "
            f"execution package {s.execution_package!r}"
        )

    def _client(self) -> HttpClient:
        return HttpClient(
            self.settings, deadline=Deadline(self.settings.deadline), transport=self._transport
        )

    def _placement(self, api: EtApi, *, create: bool) -> Placement:
        s = self.settings
        assert s.project is not None
        return resolve_placement(
            api,
            project=s.project,
            script_package=s.script_package,
            automated_test=s.automated_test,
            execution_package=s.execution_package,
            create=create,
        )

    def plan(self, run: RunReport) -> Delivery:
        delivery = Delivery(target=self.name)
        payload = build_payload(run)
        with self._client() as http:
            api = EtApi(http)
            api.root()
            placement = self._placement(api, create=False)
            delivery.plan = [f"would create {what}" for what in placement.created]
            delivery.plan.append(
                f"would upload {len(run.cases)} results ({len(payload.xml):,} bytes of JUnit XML)"
                + (" to the existing assignment" if placement.complete else "")
            )
            jobs = [
                (case.case_id, key)
                for case in run.cases
                if not self.settings.no_link and case.outcome.value in self.settings.link_on
                for key, _ in _keys(case, self.settings)
            ]
            delivery.plan.append(f"would link {len(jobs)} ticket(s) to failing results")
            delivery.requests = http.requests_sent
        return delivery

    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        delivery = Delivery(target=self.name)
        payload = build_payload(run)
        with self._client() as http:
            api = EtApi(http)
            try:
                self._deliver(api, run, payload, journal, delivery)
            finally:
                delivery.requests = http.requests_sent
                delivery.bytes_sent = http.bytes_sent
        return delivery

    def _deliver(
        self, api: EtApi, run: RunReport, payload: Any, journal: Journal, delivery: Delivery
    ) -> None:
        progress = self._progress
        placed = journal.step("placement")
        if placed is None:
            progress("resolving project and packages")
            api.root()
            placement = self._placement(api, create=True)
            placed = {
                "project_id": placement.project_id,
                "assignment_id": placement.assignment_id,
                "created": placement.created,
            }
            journal.record("placement", placed)
        project_id = str(placed["project_id"])
        assignment_id = str(placed["assignment_id"])

        uploaded = journal.step("uploaded")
        if uploaded is None:
            uploaded = self._upload(api, run, payload, assignment_id, journal)
            journal.record("uploaded", uploaded)
        run_id = str(uploaded["run_id"])
        delivery.run_id = run_id

        et_run = api.run(run_id)
        delivery.run_url = et_run.Self or api.http.url(f"api/automatedtestrun/{run_id}")
        delivery.server_status = et_run.Status
        delivery.server_totals = {
            str(k): int(v) for k, v in (et_run.Totals or {}).items() if isinstance(v, int)
        }

        mapped = journal.step("mapped")
        if mapped is None:
            progress("reading result nodes")
            node_ids, statuses, unmapped = map_nodes(api, run_id, payload)
            mapped = {"node_ids": node_ids, "statuses": statuses, "unmapped": unmapped}
            journal.record("mapped", mapped)
        delivery.node_ids = dict(mapped["node_ids"])
        delivery.node_statuses = dict(mapped["statuses"])
        delivery.unmapped = list(mapped["unmapped"])

        jobs, missing = link_jobs(run, delivery.node_ids, self.settings)
        done_links: dict[str, Any] = dict(journal.step("links") or {})
        results: list[LinkResult] = list(missing)
        todo = []
        for job in jobs:
            previous = done_links.get(f"{job.case_id}\x00{job.key}")
            if previous and previous["status"] in ("linked", "already_linked", "unknown_ticket"):
                results.append(
                    LinkResult(job.case_id, job.key, previous["status"], previous.get("reason", ""))
                )
            else:
                todo.append(job)
        if todo:
            progress(f"linking {len(todo)} ticket(s)")
            linker = Linker(api, project_id, run_id, concurrency=self.settings.link_concurrency)

            def remember(result: LinkResult) -> None:
                done_links[f"{result.case_id}\x00{result.key}"] = {
                    "status": result.status,
                    "reason": result.reason,
                }

            results.extend(linker.run(todo, on_result=remember))
            journal.record("links", done_links)
        delivery.links = results

    def _upload(
        self, api: EtApi, run: RunReport, payload: Any, assignment_id: str, journal: Journal
    ) -> dict[str, Any]:
        progress = self._progress
        started = journal.step("upload_started")
        if started is not None:
            # An earlier attempt sent the POST but did not learn its fate: look before re-sending.
            before = set(started["before"])
            progress("looking for the run an interrupted upload may have created")
            found = find_new_run(
                api,
                assignment_id,
                before,
                run.started_at,
                payload,
                wait=min(30.0, api.http.deadline.remaining()),
            )
            if found is not None:
                return {"run_id": found.Id}
        before = set(known_run_ids(api, assignment_id))
        journal.record(
            "upload_started",
            {"before": sorted(before), "at": datetime.now(timezone.utc).isoformat()},
        )
        progress(f"uploading {len(run.cases)} results ({len(payload.xml):,} bytes)")
        response = api.upload_results(assignment_id, payload.xml, "tmupload-results.xml")
        task: EtTask | None = None
        try:
            task = EtTask.model_validate(response.json())
        except ValueError:
            task = None
        if task is not None and (task.Self or task.Id):
            progress("waiting for the server to import the results")
            api.wait_task(api.task_url(task, response.headers.get("Location")), what="the import")
        found = find_new_run(api, assignment_id, before, run.started_at, payload)
        if found is None:
            raise TaskError(
                "the server accepted the results but no new run appeared on the assignment; "
                "check the server's import log (the results are kept in the outbox)"
            )
        if found.StartedAt and parse_time(found.StartedAt) is None:
            raise ServerProtocolError(
                f"the new run has an unreadable StartedAt {found.StartedAt!r}"
            )
        return {"run_id": found.Id}
