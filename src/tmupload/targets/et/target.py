"""The Enterprise Tester target: docs/servers/et.md §9 steps 1-8 on top of ``EtApi``.

Each finished step is recorded in the journal before the next begins, so that a resend
resumes where a delivery stopped and never repeats the (non-idempotent) upload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import httpx

from tmupload.attachments import send_all
from tmupload.errors import (
    ServerError,
    ServerProtocolError,
    ServerRejected,
    TaskError,
    TmUploadError,
    TransportError,
)
from tmupload.linking import LinkRequest, link_requests
from tmupload.models import Attachment, CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import (
    AttachmentResult,
    Delivery,
    Journal,
    LinkResult,
    ResultMap,
    RunRef,
)
from tmupload.targets.et.api import ET_CLIENT, EtApi
from tmupload.targets.et.files import attach_to_node, node_attachments
from tmupload.targets.et.linking import Linker, LinkJob
from tmupload.targets.et.models import EtRun, EtTask
from tmupload.targets.et.payload import EtPayload, UploadBody, payload_file
from tmupload.targets.et.placement import resolve_placement
from tmupload.targets.et.preflight import preflight
from tmupload.targets.et.runs import find_new_run, known_run_ids, map_nodes
from tmupload.targets.et.stream import EtStream
from tmupload.targets.toolkit.steps import (
    ATTACHMENTS,
    MAPPED,
    PLACEMENT,
    UPLOAD,
    UPLOADED,
    once,
    placement_or_prepared,
)
from tmupload.targets.toolkit.target import ServerTarget

__all__ = ["EtTarget"]

log = logging.getLogger("tmupload.et")

# Seconds an import may take to show up as a run after an upload whose answer was lost. A
# resend long after the upload looks once; a resend right after it waits out the remainder.
IMPORT_GRACE = 10.0


# ET's run totals (docs/servers/et.md §5.2) under the neutral names of ``Delivery.totals``.
_TOTALS = {"Passed": "passed", "Failed": "failed", "Errors": "errors", "Skipped": "skipped"}
_TOTALS_NOT_RUN = ("NotRun", "Not Run")

# Journal steps. Entries spooled before the journal had intents recorded the upload's intent
# as a finished step named "upload_started": it is read as the intent it was.
_LEGACY_UPLOAD_INTENT = "upload_started"


class EtTarget(ServerTarget):
    """Deliver a RunReport to Enterprise Tester."""

    name = "Enterprise Tester"
    recipe = ET_CLIENT

    def _configure(self) -> None:
        self._prepared: dict[str, Any] | None = None  # placement found while the tests ran
        self._stream: EtStream | None = None

    def describe(self) -> str:
        return preflight(self.settings)

    def prepare(self) -> None:
        """Look the placement up (never create it) while the tests run: when the project,
        packages, automated test and assignment all exist, the session end starts with the
        upload. A problem here is left for ``deliver`` to find and report."""
        try:
            with self.connection.background_client() as http:
                placement = resolve_placement(EtApi(http), self.settings, create=False)
        except TmUploadError as exc:
            log.debug("preparing the placement failed (the upload will retry): %s", exc)
            return
        if placement.complete:
            self._prepared = {
                "project_id": placement.project_id,
                "assignment_id": placement.assignment_id,
                "created": [],
            }

    def plan(self, run: RunReport) -> Delivery:
        delivery = Delivery(target=self.name)
        with payload_file(run) as payload:
            size = payload.size
        with self._client() as http:
            api = EtApi(http)
            api.root()
            placement = resolve_placement(api, self.settings, create=False)
            delivery.plan = [f"would create {what}" for what in placement.created]
            delivery.plan.append(
                f"would upload {len(run.cases)} results ({size:,} bytes of JUnit XML)"
                + (" to the existing assignment" if placement.complete else "")
            )
            pairs = link_requests(run, self.settings)
            delivery.plan.append(f"would link {len(pairs)} ticket(s) to failing results")
            delivery.requests = http.requests_sent
        return delivery

    def stream(self, *, may_send: bool) -> EtStream:
        """Each case's element of the document, written as its test ends (stream.py); nothing
        is sent early, so ``may_send`` changes nothing."""
        self._stream = EtStream()
        return self._stream

    # -- delivery ------------------------------------------------------------------------
    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        stream, self._stream = self._stream, None  # a stream serves one delivery
        prewritten = stream.pieces if stream is not None else None
        # The document goes to a temporary file in the outbox and is sent from there.
        with payload_file(run, self.settings.outbox, prewritten) as payload:
            return self._delivering(
                lambda http, out: self._deliver(EtApi(http), run, payload, journal, out)
            )

    def _deliver(
        self, api: EtApi, run: RunReport, payload: EtPayload, journal: Journal, delivery: Delivery
    ) -> None:
        project_id, run_id = self._upload_step(api, run, payload, journal)
        et_run = api.run(run_id)
        delivery.run = _run_ref(api, et_run, run_id, self.settings)
        delivery.totals = _totals(et_run)

        pairs = link_requests(run, self.settings)
        has_files = any(case.attachments for case in run.cases)
        if not pairs and not has_files and self.settings.manifest is None:
            # Nothing needs the server's node ids (no link, no file, no manifest): reading
            # every node (5.6 MB for 10,000 results) would cost the session end for nothing.
            return
        mapped = once(journal, MAPPED, lambda: self._map_nodes(api, run_id, payload))
        # Read only from here on: the journal's own maps, not copies (a million ids each).
        node_ids: dict[str, str] = mapped["node_ids"]
        statuses: dict[str, str] = mapped["statuses"]
        delivery.results = ResultMap(node_ids, statuses.get)
        delivery.unmapped = list(mapped["unmapped"])

        linker = Linker(api, project_id, run_id)
        delivery.links = self._link_all(pairs, _on_node(linker, node_ids), journal)
        if has_files:
            delivery.attachments = self._attach(api, run, run_id, node_ids, journal)

    def _upload_step(
        self, api: EtApi, run: RunReport, payload: EtPayload, journal: Journal
    ) -> tuple[str, str]:
        """(project id, run id): the placement as journaled, found ahead or resolved now;
        the results uploaded into it once."""
        placed = placement_or_prepared(journal, self._prepared)
        cached = placed is not None  # ids found earlier: they may be gone by now
        if placed is None:
            placed = self._resolve_and_record(api, journal)
        where: dict[str, Any] = placed

        def upload() -> dict[str, Any]:
            nonlocal where
            try:
                return self._upload(api, run, payload, str(where["assignment_id"]), journal)
            except ServerRejected as exc:
                if exc.status != 404 or not cached:
                    raise
            # The ids cached by an earlier attempt are gone (the server lost its data, or the
            # entry was spooled against another server): find or create them again.
            self._progress("the project or assignment cached for this run is gone; resolving again")
            where = self._resolve_and_record(api, journal)
            return self._upload(api, run, payload, str(where["assignment_id"]), journal)

        uploaded = once(journal, UPLOADED, upload)
        return str(where["project_id"]), str(uploaded["run_id"])

    def _map_nodes(self, api: EtApi, run_id: str, payload: EtPayload) -> dict[str, Any]:
        self._progress("reading result nodes")
        found_ids, found_statuses, unmapped = map_nodes(api, run_id, payload)
        return {"node_ids": found_ids, "statuses": found_statuses, "unmapped": unmapped}

    def _attach(
        self,
        api: EtApi,
        run: RunReport,
        run_id: str,
        node_ids: dict[str, str],
        journal: Journal,
    ) -> list[AttachmentResult]:
        # A POST whose answer was lost may have stored its file: after such an attempt (an
        # intent without its finished step), a node's files are looked at before sending.
        look_first = journal.intent(ATTACHMENTS) is not None
        journal.declare(ATTACHMENTS, {"run_id": run_id})

        def send_one(case: CaseResult, item: Attachment) -> None:
            node_id = node_ids.get(case.case_id)
            if node_id is None:
                raise ServerProtocolError(f"the server shows no result node for {case.case_id}")
            if look_first and any(
                str(found.get("FileName") or found.get("Name")) == item.name
                and int(found.get("Size") or -1) == item.size
                for found in node_attachments(api, run_id, node_id)
            ):
                return
            data = Path(item.path).read_bytes()
            attach_to_node(api, run_id, node_id, item.name, item.content_type, data)

        results = send_all(
            run,
            send_one,
            journal,
            concurrency=self.settings.link_concurrency,
            progress=self._progress,
        )
        if all(result.status == "sent" for result in results):
            journal.finish(ATTACHMENTS, {"sent": len(results)})
        return results

    def _resolve_and_record(self, api: EtApi, journal: Journal) -> dict[str, Any]:
        self._progress("resolving project and packages")
        api.root()
        placement = resolve_placement(api, self.settings, create=True)
        placed = {
            "project_id": placement.project_id,
            "assignment_id": placement.assignment_id,
            "created": placement.created,
        }
        journal.finish(PLACEMENT, placed)
        return placed

    def _upload(
        self, api: EtApi, run: RunReport, payload: EtPayload, assignment_id: str, journal: Journal
    ) -> dict[str, Any]:
        progress = self._progress
        started = journal.intent(UPLOAD) or journal.done(_LEGACY_UPLOAD_INTENT)
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
        journal.declare(UPLOAD, {"before": sorted(before), "at_epoch": time.time()})
        progress(f"uploading {len(run.cases):,} results ({payload.size:,} bytes)")
        try:
            response = self._post(api, assignment_id, payload.body("tmupload-results.xml"))
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

    def _post(self, api: EtApi, assignment_id: str, body: UploadBody) -> httpx.Response:
        """``EtApi.upload_results``, with the body sent from the payload file in pieces.

        ``HttpClient.request`` is typed for bytes; httpx takes any re-iterable body, and the
        client needs only ``len()`` of it (``bytes_sent``).
        """
        return api.http.request(
            "POST",
            f"api/automatedtestassignment/{assignment_id}/runs",
            content=cast(bytes, body),
            headers={"Content-Type": body.content_type, "Content-Length": str(len(body))},
            idempotent=False,
            ok=(202, 200),
        )

    def _find_after_ambiguous_post(
        self, api: EtApi, assignment_id: str, before: set[str], run: RunReport, payload: EtPayload
    ) -> str | None:
        self._progress("the upload's answer was lost; looking for the run it may have created")
        try:
            found = find_new_run(
                api, assignment_id, before, run.started_at, payload, wait=IMPORT_GRACE, verify=True
            )
        except ServerError:
            return None  # still unreachable: the outbox entry remembers to look again
        return found.Id if found is not None else None


def _on_node(linker: Linker, node_ids: dict[str, str]) -> Callable[[LinkRequest], LinkResult]:
    """Link one pair on its case's result node (failed when the server shows none)."""

    def link_one(request: LinkRequest) -> LinkResult:
        node_id = node_ids.get(request.case_id)
        if node_id is None:
            return LinkResult(
                request.case_id, request.key, "failed", "the server shows no result node for it"
            )
        return linker.link(LinkJob(request.case_id, node_id, request.key, request.system))

    return link_one


def _run_ref(api: EtApi, et_run: EtRun, run_id: str, settings: Settings) -> RunRef:
    # ET's web UI addresses are not documented (docs/servers/et.md §5.1 only says the assignment's
    # id appears in one), so the run is given by its API URL plus the path a person follows.
    api_url = et_run.Self or api.http.url(f"api/automatedtestrun/{run_id}")
    started = f", the run started {et_run.StartedAt}" if et_run.StartedAt else ""
    where = (
        f"project {settings.project!r} › execution package "
        f"{settings.option('execution_package')!r} › automated test "
        f"{settings.option('automated_test')!r}{started}"
    )
    return RunRef(id=run_id, api_url=api_url, status=et_run.Status, where=where)


def _totals(et_run: EtRun) -> dict[str, int]:
    totals: dict[str, int] = {}
    for key, value in (et_run.Totals or {}).items():
        if not isinstance(value, int):
            continue
        if key in _TOTALS:
            totals[_TOTALS[key]] = value
        elif key in _TOTALS_NOT_RUN:
            totals["not_run"] = totals.get("not_run", 0) + value
    return totals
