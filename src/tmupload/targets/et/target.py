"""The Enterprise Tester target: DESIGN §3 steps 1-8 on top of ``EtApi``.

Each finished step is recorded in the journal before the next begins, so that a resend
resumes where a delivery stopped and never repeats the (non-idempotent) upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from tmupload.errors import ServerError, TaskError, TransportError
from tmupload.http.client import Deadline, HttpClient
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Delivery, Journal, LinkResult
from tmupload.targets.et.api import EtApi, EtTask
from tmupload.targets.et.linking import Linker, LinkJob
from tmupload.targets.et.payload import build_payload
from tmupload.targets.et.placement import Placement, resolve_placement
from tmupload.targets.et.runs import find_new_run, known_run_ids, map_nodes

__all__ = ["EtTarget", "link_jobs"]

log = logging.getLogger("tmupload.et")

Progress = Callable[[str], None]

# Seconds an import may take to show up as a run after an upload whose answer was lost. A
# resend long after the upload looks once; a resend right after it waits out the remainder.
IMPORT_GRACE = 10.0


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
            # An earlier attempt sent the POST but never learned its fate: look before re-sending.
            progress("looking for the run an interrupted upload may have created")
            age = time.time() - float(started.get("at_epoch", 0.0))
            found = find_new_run(
                api,
                assignment_id,
                set(started["before"]),
                run.started_at,
                payload,
                wait=max(0.0, IMPORT_GRACE - age),
                verify=True,
            )
            if found is not None:
                return {"run_id": found.Id}
        before = set(known_run_ids(api, assignment_id))
        journal.record("upload_started", {"before": sorted(before), "at_epoch": time.time()})
        progress(f"uploading {len(run.cases):,} results ({len(payload.xml):,} bytes)")
        try:
            response = api.upload_results(assignment_id, payload.xml, "tmupload-results.xml")
        except TransportError as exc:
            # The connection broke after the request may have reached the server: a second
            # POST could create a second run, so look for the first one instead.
            run_id = self._find_after_ambiguous_post(api, assignment_id, before, run, payload)
            if run_id is None:
                raise exc from None
            return {"run_id": run_id}
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
        return {"run_id": found.Id}

    def _find_after_ambiguous_post(
        self, api: EtApi, assignment_id: str, before: set[str], run: RunReport, payload: Any
    ) -> str | None:
        self._progress("the upload's answer was lost; looking for the run it may have created")
        try:
            found = find_new_run(
                api, assignment_id, before, run.started_at, payload, wait=IMPORT_GRACE, verify=True
            )
        except ServerError:
            return None  # still unreachable: the outbox entry remembers to look again
        return found.Id if found is not None else None
