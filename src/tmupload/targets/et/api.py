"""Typed calls to the Enterprise Tester REST API (docs/servers/et.md §2-§8). No workflow here.

What the calls answer is read into the tolerant shapes of ``models.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from tmupload.errors import ServerProtocolError, TaskError
from tmupload.http.auth import basic_auth
from tmupload.http.client import HttpClient
from tmupload.http.dialect import ServerDialect, generic_message
from tmupload.http.poll import poll
from tmupload.targets.et.models import (
    EtEntity,
    EtNode,
    EtRun,
    EtTask,
    EtTicket,
    items_of,
    json_body,
    nodes_body,
    odata_quote,
    parse_model,
)
from tmupload.targets.toolkit.connection import ClientRecipe

__all__ = [
    "EMPTY_GUID",
    "ET_CLIENT",
    "ET_DIALECT",
    "EtApi",
    "et_client",
]

#: ET's errors carry ``{"Message": ...}`` (docs/servers/et.md §2.4); a 404 usually means the URL
#: lacks the application path.
ET_DIALECT = ServerDialect(
    message=generic_message,
    hints={
        404: "not found: check the URL (it must include the application path, e.g. "
        "https://host/EnterpriseTester) and the names in the settings",
        415: "the server expected a multipart upload",
    },
    url_hint="Enterprise Tester's address including its application path, e.g. "
    "https://et.example.com/EnterpriseTester",
)


#: ET's clients: Basic auth (docs/servers/et.md §2.3) and ET's errors.
ET_CLIENT = ClientRecipe(ET_DIALECT, basic_auth)
et_client = ET_CLIENT.open

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


class EtApi:
    """One method per documented call. Methods return models or raise a ServerError."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # -- discovery (docs/servers/et.md §2.1) -------------------------------------------------------
    def root(self) -> dict[str, str]:
        """``GET /api``: the collection URLs by ``Rel``."""
        # The first call of every upload and check: a 404 here is the URL, not a name.
        body = json_body(self.http.request("GET", "api", probe=True), "GET /api")
        links = body.get("Links", []) if isinstance(body, dict) else []
        return {str(link.get("Rel")): str(link.get("Href")) for link in links if "Rel" in link}

    def systeminfo(self) -> dict[str, Any]:
        body = json_body(self.http.request("GET", "api/systeminfo"), "GET /api/systeminfo")
        return body if isinstance(body, dict) else {}

    # -- containers (docs/servers/et.md §6) --------------------------------------------------------
    def find_projects(self, name: str) -> list[EtEntity]:
        response = self.http.request(
            "GET", "api/projects", params={"$filter": f"Name eq {odata_quote(name)}"}
        )
        return [
            parse_model(EtEntity, item, "project")
            for item in items_of(json_body(response, "projects"), "projects")
        ]

    def project_names(self, top: int) -> list[str]:
        """The first ``top`` project names by name (docs/servers/et.md §2.6: ``$orderby``,
        ``$top``), to tell a user which projects exist when the one named does not."""
        response = self.http.request(
            "GET", "api/projects", params={"$orderby": "Name", "$top": str(top)}
        )
        items = items_of(json_body(response, "projects"), "projects")
        return [str(item.get("Name")) for item in items if isinstance(item, dict)]

    def project(self, project_id: str, expand: str | None = None) -> dict[str, Any]:
        params = {"$expand": expand} if expand else None
        body = json_body(
            self.http.request("GET", f"api/project/{project_id}", params=params), "project"
        )
        return body if isinstance(body, dict) else {}

    def find_packages(
        self, kind: str, name: str, *, project_id: str | None = None, parent_id: str | None = None
    ) -> list[EtEntity]:
        """``kind`` is ``scriptpackages`` or ``executionpackages`` (vendor TQL,
        docs/servers/et.md §2.7)."""
        scope = (
            f"Project={odata_quote(project_id)}"
            if project_id
            else f"Package={odata_quote(parent_id or '')}"
        )
        tql = f"Id IN Packages({odata_quote(name)}) AND {scope}"
        return self._find(kind, tql, kind, "package")

    def create_package(
        self, kind: str, name: str, *, project_id: str | None = None, parent_id: str | None = None
    ) -> EtEntity:
        body: dict[str, str] = {"Name": name}
        if parent_id:
            body["ParentId"] = parent_id
        else:
            body["ProjectId"] = project_id or ""
        return self._create(kind, body, kind, "package")

    # -- automated tests and assignments (docs/servers/et.md §4.2-§4.3) ----------------------------
    def find_automated_tests(self, name: str, package_id: str) -> list[EtEntity]:
        tql = f"Name~{odata_quote(name)} AND Package={odata_quote(package_id)}"
        return self._find("automatedtests", tql, "automated tests", "automated test")

    def create_automated_test(self, name: str, package_id: str) -> EtEntity:
        body = {
            "PackageId": package_id,
            "Name": name,
            "Type": "UnitTest",
            "Configuration": {"Type": "JUnit"},
        }
        return self._create("automatedtests", body, "automated test", "automated test")

    def find_assignments(self, test_id: str, package_id: str) -> list[EtEntity]:
        tql = f"TestId={test_id} AND Package={package_id}"
        return self._find("automatedtestassignments", tql, "assignments", "assignment")

    def create_assignment(self, test_id: str, package_id: str) -> EtEntity:
        body = {"PackageId": package_id, "AutomatedTestId": test_id}
        return self._create("automatedtestassignments", body, "assignment", "assignment")

    def _find(self, collection: str, tql: str, found: str, one: str) -> list[EtEntity]:
        """The entities of ``api/<collection>`` a TQL query picks (the first 100; vendor TQL,
        docs/servers/et.md §2.7); ``found`` names the answer in errors, ``one`` an entity."""
        params = {"tql": tql, "$top": "100"}
        response = self.http.request("GET", f"api/{collection}", params=params)
        items = items_of(json_body(response, found), found)
        return [parse_model(EtEntity, item, one) for item in items]

    def _create(self, collection: str, body: dict[str, Any], made: str, one: str) -> EtEntity:
        """POST a new entity to ``api/<collection>`` (201 or 200 both say it was made);
        ``made`` names the call in errors ("POST <made>"), ``one`` the entity."""
        response = self.http.request("POST", f"api/{collection}", json=body, ok=(201, 200))
        return parse_model(EtEntity, json_body(response, f"POST {made}"), one)

    # -- runs (docs/servers/et.md §5.1-§5.2) -------------------------------------------------------
    def list_runs(self, assignment_id: str, *, top: int = 25, skip: int = 0) -> list[EtRun]:
        params = {"$orderby": "ImportedAt desc", "$top": str(top), "$skip": str(skip)}
        response = self.http.request(
            "GET", f"api/automatedtestassignment/{assignment_id}/runs", params=params
        )
        return [
            parse_model(EtRun, item, "run")
            for item in items_of(json_body(response, "runs"), "runs")
        ]

    def run(self, run_id: str) -> EtRun:
        response = self.http.request(
            "GET", f"api/automatedtestrun/{run_id}", params={"$expand": "Totals"}
        )
        return parse_model(EtRun, json_body(response, "run"), "run")

    def upload_results(self, assignment_id: str, xml: bytes, filename: str) -> httpx.Response:
        """POST the JUnit file as ``multipart/mixed`` (docs/servers/et.md §2.10, §5.1; vendor cURL
        form)."""
        boundary = uuid.uuid4().hex
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="fileupload"; filename="{filename}"\r\n'
            "Content-Type: text/xml\r\n"
            f"Content-Length: {len(xml)}\r\n\r\n"
        ).encode("ascii")
        body = head + xml + f"\r\n--{boundary}--\r\n".encode("ascii")
        return self.http.request(
            "POST",
            f"api/automatedtestassignment/{assignment_id}/runs",
            content=body,
            headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
            idempotent=False,
            ok=(202, 200),
        )

    # -- result nodes (docs/servers/et.md §5.3) ----------------------------------------------------
    def root_nodes(self, run_id: str, *, expand: bool = True) -> list[EtNode]:
        """The run's root nodes; with ``expand``, each with its children inline (one request
        for the whole run, but one document of every node: see :meth:`walk_nodes`)."""
        params = {"$expand": "Children"} if expand else None
        response = self.http.request("GET", f"api/automatedtestrun/{run_id}/nodes", params=params)
        return nodes_body(response, "nodes")

    def children(self, run_id: str, node_id: str) -> list[EtNode]:
        response = self.http.request(
            "GET", f"api/automatedtestrun/{run_id}/node/{node_id}/children"
        )
        return nodes_body(response, "children")

    def walk_nodes(self, run_id: str, *, expand: bool = True) -> Iterator[tuple[list[str], EtNode]]:
        """Every node with the names of its ancestors; children come inline or via ``/children``.

        ``expand=False`` reads the roots alone and then each one's children: more requests,
        but never the whole run in one answer (a million result nodes are most of a gigabyte
        of JSON, held whole while it is decoded)."""
        stack: list[tuple[list[str], EtNode]] = [
            ([], node) for node in reversed(self.root_nodes(run_id, expand=expand))
        ]
        while stack:
            ancestors, node = stack.pop()
            yield ancestors, node
            if not node.HasChildren and not node.Children:
                continue
            children = (
                node.Children if node.Children is not None else self.children(run_id, node.Id)
            )
            path = [*ancestors, node.Name]
            stack.extend((path, child) for child in reversed(children))

    # -- background tasks (docs/servers/et.md §7) --------------------------------------------------
    def task_url(self, task: EtTask, location: str | None) -> str:
        """Where to poll a task: its ``Self``, else one built from its Id, else ``Location``.

        The tasks page's link-task ``Location`` lacks the ``/backgroundtask/`` segment (§7), and
        the documentation's samples use a ``localhost`` origin: a URL on another origin is never
        followed (credentials would go there), the task id is used instead.
        """
        if task.Self and self.http.is_same_origin(task.Self):
            return task.Self
        if task.Id:
            return f"api/backgroundtask/{task.Id}"
        if location:
            return self.http.url(location)
        raise ServerProtocolError("the server started a task but named neither its Self nor its Id")

    def wait_task(self, url: str, *, what: str) -> EtTask:
        """Poll a task until ``Complete``; a 404 means finished and flushed
        (docs/servers/et.md §7.2)."""
        last: list[EtTask] = []

        def check() -> EtTask | None:
            response = self.http.request("GET", url, allow=(404,))
            if response.status_code == 404:
                return (
                    last[-1].model_copy(update={"Complete": True})
                    if last
                    else EtTask(Complete=True)
                )
            task = parse_model(EtTask, json_body(response, "task"), "background task")
            if task.Error:
                raise TaskError(
                    f"{what} failed on the server: {task.Error}", server_message=task.Error, url=url
                )
            if task.Complete:
                return task
            last[:] = [task]
            return None

        return poll(
            check,
            deadline=self.http.deadline,
            what=what,
            detail=lambda: f"the task is {self.http.url(url)}",
        )

    def start_task(self, body: dict[str, Any]) -> tuple[httpx.Response, EtTask | None]:
        """``POST /api/backgroundtasks``; returns the raw response for 202 and documented 500s."""
        response = self.http.request(
            "POST",
            "api/backgroundtasks",
            json=body,
            idempotent=False,
            ok=(202, 200, 201),
            allow=(500,),
        )
        if response.status_code == 500:
            return response, None
        return response, parse_model(EtTask, json_body(response, "task"), "background task")

    # -- incidents and tickets (docs/servers/et.md §5.5, §8) ---------------------------------------
    def node_incidents(self, run_id: str, node_id: str) -> list[dict[str, Any]]:
        response = self.http.request(
            "GET", f"api/automatedtestrun/{run_id}/node/{node_id}/incidents"
        )
        return [
            item
            for item in items_of(json_body(response, "incidents"), "incidents")
            if isinstance(item, dict)
        ]

    def search_tickets(self, project_id: str, key: str) -> list[EtTicket]:
        response = self.http.request("GET", f"api/project/{project_id}/tickets", params={"q": key})
        items = items_of(json_body(response, "tickets"), "tickets")
        return [parse_model(EtTicket, item, "ticket") for item in items]

    def link_incident(self, run_id: str, node_id: str, incident_id: str) -> None:
        self.http.request(
            "POST",
            f"api/automatedtestrun/{run_id}/node/{node_id}/incidents",
            json={"IncidentId": incident_id},
            idempotent=False,
            ok=(201, 200),
        )
