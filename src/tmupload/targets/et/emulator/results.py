"""Runs and their result nodes: the upload that creates a run, listings, nodes, node incidents.

docs/servers/et.md §5.1 - §5.3 and §5.5 (docs/servers/et.md §9 steps 5-7).
"""

from __future__ import annotations

import email
import email.message
from collections.abc import Iterable

from .entities import ResultNode, Run, Task
from .importer import parse_upload
from .protocol import (
    EMPTY_GUID,
    ApiError,
    Request,
    Response,
    json_response,
    new_guid,
    normalize_guid,
)
from .resource import Getter, ResourceBase, lookup
from .result_views import node_incident_json, node_json, task_json
from .views import run_json

__all__ = ["ResultResources"]

#: docs/servers/et.md §5.3 / §5.2: statuses the ``statuses`` filter accepts (compared without
#: spaces).
_KNOWN_STATUSES = {"passed", "failed", "error", "skipped", "notrun", "warning", "done", "info"}


class ResultResources(ResourceBase):
    """docs/servers/et.md §5.1 - §5.3, §5.5."""

    @staticmethod
    def _run_fields() -> dict[str, Getter[Run]]:
        return {
            "id": lambda r: [r.id],
            "status": lambda r: [r.status],
            "assignment": lambda r: [r.assignment_id],
            "assignmentid": lambda r: [r.assignment_id],
            # fixed-width timestamps sort as text
            "importedat": lambda r: [f"{r.imported_at:020.6f}"],
            "startedat": lambda r: [f"{r.started_at:020.6f}"],
            "finishedat": lambda r: [f"{r.finished_at:020.6f}"],
        }

    def get_assignment_runs(self, request: Request, assignment_id: str) -> Response:
        """docs/servers/et.md §5.1 GET: OData (``$orderby=ImportedAt desc``, ``$top``,
        ``$expand=Totals``)."""
        assignment = lookup(self.state.assignments, assignment_id, "automated test assignment")
        runs = self._odata(
            request, list(self.state.runs_of(assignment.id)), self._run_fields(), "importedat"
        )
        expand = request.expands()
        return json_response(
            200,
            self._envelope(
                runs,
                self._paging(request),
                lambda r: run_json(request.root, self.state, r, expand),
            ),
        )

    def post_assignment_runs(self, request: Request, assignment_id: str) -> Response:
        """docs/servers/et.md §5.1 POST: a multipart upload of JUnit XML (or a zip) -> 202 + import
        task.

        The task does not name the run (docs/servers/et.md §5.1). Parsing happens outside the lock;
        the task completes ``import_delay`` seconds later, with an ``Error`` and no run when the
        file was refused (malformed XML, a DOCTYPE, no XML in a zip).
        """
        with self.lock:
            self.state.tick(self.now())
            assignment = lookup(self.state.assignments, assignment_id, "automated test assignment")
        filename, content = _file_part(request)
        received_at = self.now()
        parsed = parse_upload(filename, content, received_at)
        with self.lock:
            now = self.now()
            self.state.tick(now)
            failed = parsed.error is not None
            task = Task(
                id=f"automatedtestimport-{new_guid()}",
                kind="import",
                started_at=received_at,
                due_at=now + self.config.import_delay,
                total=parsed.leaf_count,
                processed=0,
                progress=0.0,
                message="Importing automated test results",  # [inference]
                done_message="Import failed" if failed else "Import complete",
                error=parsed.error,
                assignment_id=assignment.id,
                login=request.login,
                parsed=None if failed else parsed,
            )
            self.state.add_task(task)
            return json_response(202, task_json(request.root, task))

    def get_runs(self, request: Request) -> Response:
        """docs/servers/et.md §5.2: TQL (minimal: Id, Status, AssignmentId)."""
        return self._tql_page(
            request,
            list(self.state.runs.values()),
            self._run_fields(),
            lambda r, expand: run_json(request.root, self.state, r, expand),
        )

    def get_run(self, request: Request, run_id: str) -> Response:
        run = lookup(self.state.runs, run_id, "automated test run")
        return json_response(200, run_json(request.root, self.state, run, request.expands()))

    # -- result nodes (docs/servers/et.md §5.3, §5.5) ----------------------------------------------

    def _node_list(self, request: Request, run: Run, nodes: Iterable[ResultNode]) -> Response:
        with_children = "children" in request.expands()
        files = self.state.attachments
        return json_response(
            200,
            [
                node_json(request.root, run, n, with_children=with_children, attachments=files)
                for n in nodes
            ],
        )

    def get_run_nodes(self, request: Request, run_id: str) -> Response:
        """docs/servers/et.md §5.3: a **bare JSON array** of the roots; ``$expand=Children`` adds
        one level."""
        run = lookup(self.state.runs, run_id, "automated test run")
        return self._node_list(request, run, run.roots)

    def get_children(self, request: Request, run_id: str, node_id: str) -> Response:
        """docs/servers/et.md §5.3: a bare array; the empty GUID gives the roots; ``statuses``
        filters them.

        An unknown status in ``statuses`` is a 400 (docs/servers/et.md §5.3).
        """
        if normalize_guid(node_id) == EMPTY_GUID:
            run = lookup(self.state.runs, run_id, "automated test run")
            children = run.roots
        else:
            run, node = self._node(run_id, node_id)
            children = node.children
        wanted = request.param("statuses")
        if wanted.strip():
            statuses = {s.replace(" ", "").lower() for s in wanted.split(",") if s.strip()}
            unknown = sorted(statuses - _KNOWN_STATUSES)
            if unknown:
                raise ApiError(400, f"Invalid status in 'statuses': {', '.join(unknown)}.")
            children = [c for c in children if c.status.replace(" ", "").lower() in statuses]
        return self._node_list(request, run, children)

    def get_node(self, request: Request, run_id: str, node_id: str) -> Response:
        """docs/servers/et.md §5.3: the node (a single object, as in the Swagger)."""
        run, node = self._node(run_id, node_id)
        with_children = "children" in request.expands()
        data = node_json(
            request.root, run, node, with_children=with_children, attachments=self.state.attachments
        )
        return json_response(200, data)

    def patch_node(self, request: Request, run_id: str, node_id: str) -> Response:
        """docs/servers/et.md §5.3: PATCH ``{"Notes": "..."}``; only Notes can change."""
        run, node = self._node(run_id, node_id)
        body = request.json_object()
        if "Notes" not in body or not isinstance(body["Notes"], (str, type(None))):
            raise ApiError(403, "The body must carry 'Notes' (a string or null).")
        node.notes = body["Notes"]
        return json_response(
            200, node_json(request.root, run, node, attachments=self.state.attachments)
        )

    def get_node_incidents(self, request: Request, run_id: str, node_id: str) -> Response:
        """docs/servers/et.md §5.5: ``{"Items": [...]}`` (not a paging envelope)."""
        run, node = self._node(run_id, node_id)
        items = [node_incident_json(request.root, run, node, i) for i in node.incident_ids]
        return json_response(200, {"Items": items})

    def post_node_incident(self, request: Request, run_id: str, node_id: str) -> Response:
        """docs/servers/et.md §5.5: ``{"IncidentId"}`` -> 201; 400 bad body; 404 unknown
        run/node/incident."""
        run, node = self._node(run_id, node_id)
        try:
            body = request.json_object()
        except ApiError as exc:
            raise ApiError(400, exc.message) from None
        raw = body.get("IncidentId")
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "The body must carry 'IncidentId'.")
        incident = lookup(self.state.incidents, raw, "incident")
        if incident.id in node.incident_ids:
            # [inference] the reference does not say; ET reports validation failures as 403
            raise ApiError(403, "The incident is already linked to this result node.")
        self.state.link_incident(node, incident)
        return json_response(201, node_incident_json(request.root, run, node, incident.id))

    def _linked(self, run_id: str, node_id: str, incident_id: str) -> tuple[Run, ResultNode, str]:
        run, node = self._node(run_id, node_id)
        guid = normalize_guid(incident_id)
        if guid is None or guid not in node.incident_ids:
            raise ApiError(404, f"The incident '{incident_id}' is not linked to this node.")
        return run, node, guid

    def get_node_incident(
        self, request: Request, run_id: str, node_id: str, incident_id: str
    ) -> Response:
        run, node, guid = self._linked(run_id, node_id, incident_id)
        return json_response(200, node_incident_json(request.root, run, node, guid))

    def delete_node_incident(
        self, request: Request, run_id: str, node_id: str, incident_id: str
    ) -> Response:
        """docs/servers/et.md §5.5: 200; 404 also when the link does not exist."""
        run, node, guid = self._linked(run_id, node_id, incident_id)
        node.incident_ids.remove(guid)
        return json_response(200, node_incident_json(request.root, run, node, guid))


def _file_part(request: Request) -> tuple[str, bytes]:
    """The one file part of a multipart body (docs/servers/et.md §2.10, §5.1): (filename, bytes).

    Anything that is not ``multipart/*`` is a 415 (docs/servers/et.md §2.3); [inference]
    ``multipart/form-data`` is accepted as well as ``multipart/mixed``, and the part name is not
    significant.
    """
    content_type = request.content_type
    if not content_type.lower().startswith("multipart/"):
        raise ApiError(415, "The upload must be a MIME multipart request (multipart/mixed).")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.message_from_bytes(head + request.body)
    parts = message.get_payload() if message.is_multipart() else None
    if not isinstance(parts, list) or not parts:
        raise ApiError(400, "The multipart body has no parts (check the boundary).")
    chosen: email.message.Message | None = None
    for part in parts:
        if isinstance(part, email.message.Message) and part.get_filename():
            chosen = part
            break
    if chosen is None:
        chosen = next((p for p in parts if isinstance(p, email.message.Message)), None)
    if chosen is None:
        raise ApiError(400, "The multipart body has no file part.")
    payload = chosen.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    if not content:
        raise ApiError(403, "The uploaded file is empty.")
    return chosen.get_filename() or "results.xml", content
