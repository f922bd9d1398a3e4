"""The ``/api`` resources: routing, validation and the answers of each resource.

Each handler cites the reference section it follows (``ref §x.y``); behaviour the reference
leaves open is marked ``[inference]``. Paths match case-insensitively (ref §1.1 notes a
sample request with ``api/Project``) and ids are lower-cased GUIDs.
"""

from __future__ import annotations

import email
import email.message
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from .config import EmulatorConfig
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
from .state import (
    Assignment,
    AutomatedTest,
    Package,
    Project,
    ResultNode,
    Run,
    State,
    Task,
    Ticket,
    User,
)
from .tql import Paging, QueryError, parse_filter, parse_orderby, parse_paging, parse_tql
from .views import (
    assignment_json,
    incident_json,
    link_json,
    node_incident_json,
    node_json,
    package_json,
    project_json,
    run_json,
    task_json,
    test_json,
    ticket_json,
)

__all__ = ["LINK_TASK_TYPE", "Api"]

T = TypeVar("T")
Handler = Callable[..., Response]
Getter = Callable[[T], Sequence[str | None]]

#: seed 004 / ref §5.3: the single-call ticket-link task type.
LINK_TASK_TYPE = "LinkTicketToAutomatedTestRunResultNode"

#: ref §3.9 / §3.7: statuses the ``statuses`` filter accepts (compared without spaces).
_KNOWN_STATUSES = {"passed", "failed", "error", "skipped", "notrun", "warning", "done", "info"}

#: ref §1.1: the root ``Links`` (Rel, resource, methods, OData, TQL).
_ROOT_LINKS = (
    ("Projects", "projects", ["GET", "POST"], True, False),
    ("ScriptPackages", "scriptpackages", ["GET", "POST"], False, True),
    ("ExecutionPackages", "executionpackages", ["GET", "POST"], False, True),
    ("AutomatedTests", "automatedtests", ["GET", "POST"], False, True),
    ("AutomatedTestAssignments", "automatedtestassignments", ["GET", "POST"], False, True),
    ("AutomatedTestRuns", "automatedtestruns", ["GET"], False, True),
    ("BackgroundTasks", "backgroundtasks", ["POST"], False, False),
    ("SystemInfo", "systeminfo", ["GET"], False, False),
    ("Search", "search", ["GET"], False, True),
)


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    methods: dict[str, Handler]


def _required_text(body: dict[str, Any], name: str) -> str:
    """A required non-empty string field; its absence is a validation failure: 403 (§1.3)."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(403, f"'{name}' is required and must be a non-empty string.")
    return value


def _optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(403, f"'{name}' must be a string.")
    return value


def _lookup(table: dict[str, T], raw_id: str, what: str) -> T:
    """An entity by (possibly non-canonical) id; unknown ids are 404 (ref §1.3)."""
    guid = normalize_guid(raw_id)
    if guid is None or guid not in table:
        raise ApiError(404, f"No {what} with id '{raw_id}' was found.")
    return table[guid]


def _same(value: str, candidates: Iterable[str | None]) -> bool:
    folded = value.casefold()
    return any(c is not None and c.casefold() == folded for c in candidates)


def _contains(value: str, candidates: Iterable[str | None]) -> bool:
    folded = value.casefold()
    return any(c is not None and folded in c.casefold() for c in candidates)


class Api:
    """The ``/api`` resources over one :class:`State`. Handlers run under ``lock``."""

    def __init__(self, config: EmulatorConfig, lock: threading.RLock) -> None:
        self.config = config
        self.lock = lock
        self.state = State(config, time.time())
        self._routes = self._build_routes()

    def reset(self) -> None:
        with self.lock:
            self.state = State(self.config, time.time())

    # -- routing -------------------------------------------------------------------------

    def _build_routes(self) -> list[_Route]:
        guid = r"([^/]+)"
        table: list[tuple[str, dict[str, Handler]]] = [
            (r"/api", {"GET": self.get_root}),
            (r"/api/systeminfo", {"GET": self.get_systeminfo}),
            (r"/api/automatedtesttypes", {"GET": self.get_test_types}),
            (r"/api/search", {"GET": self.get_search}),
            (r"/api/projects", {"GET": self.get_projects, "POST": self.post_projects}),
            (rf"/api/project/{guid}", {"GET": self.get_project}),
            (rf"/api/project/{guid}/tickets", {"GET": self.get_project_tickets}),
            (r"/api/externalsystemlinks", {"GET": self.get_links}),
            (rf"/api/externalsystemlink/{guid}", {"GET": self.get_link}),
            (rf"/api/externalsystemlink/{guid}/ticket/{guid}", {"GET": self.get_ticket}),
            (
                rf"/api/externalsystemlink/{guid}/ticket/{guid}/link",
                {"POST": self.post_ticket_link},
            ),
            (rf"/api/incident/{guid}", {"GET": self.get_incident}),
            (
                r"/api/(script|execution)packages",
                {"GET": self.get_packages, "POST": self.post_packages},
            ),
            (rf"/api/(script|execution)package/{guid}", {"GET": self.get_package}),
            (
                rf"/api/(script|execution)package/{guid}/children",
                {"GET": self.get_package_children},
            ),
            (r"/api/automatedtests", {"GET": self.get_tests, "POST": self.post_tests}),
            (rf"/api/automatedtest/{guid}", {"GET": self.get_test}),
            (
                rf"/api/automatedtest/{guid}/assignments",
                {"GET": self.get_test_assignments, "POST": self.post_test_assignments},
            ),
            (
                r"/api/automatedtestassignments",
                {"GET": self.get_assignments, "POST": self.post_assignments},
            ),
            (rf"/api/automatedtestassignment/{guid}", {"GET": self.get_assignment}),
            (
                rf"/api/automatedtestassignment/{guid}/runs",
                {"GET": self.get_assignment_runs, "POST": self.post_assignment_runs},
            ),
            (r"/api/automatedtestruns", {"GET": self.get_runs}),
            (rf"/api/automatedtestrun/{guid}", {"GET": self.get_run}),
            (rf"/api/automatedtestrun/{guid}/nodes", {"GET": self.get_run_nodes}),
            (
                rf"/api/automatedtestrun/{guid}/node/{guid}",
                {"GET": self.get_node, "PATCH": self.patch_node},
            ),
            (rf"/api/automatedtestrun/{guid}/node/{guid}/children", {"GET": self.get_children}),
            (
                rf"/api/automatedtestrun/{guid}/node/{guid}/incidents",
                {"GET": self.get_node_incidents, "POST": self.post_node_incident},
            ),
            (
                rf"/api/automatedtestrun/{guid}/node/{guid}/incident/{guid}",
                {"GET": self.get_node_incident, "DELETE": self.delete_node_incident},
            ),
            (r"/api/backgroundtasks", {"POST": self.post_task}),
            (rf"/api/backgroundtask/{guid}", {"GET": self.get_task}),
        ]
        return [_Route(re.compile(pattern), methods) for pattern, methods in table]

    def dispatch(self, request: Request, user: User) -> Response:
        """Route an authenticated request: 404 unknown path, 405 wrong method, 403 read-only."""
        path = request.path.rstrip("/").lower() or "/"
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            handler = route.methods.get(request.method)
            if handler is None:
                allowed = ", ".join(sorted(route.methods))
                raise ApiError(
                    405,
                    f"The method {request.method} is not allowed on {request.path}.",
                    {"Allow": allowed},
                )
            if user.readonly and request.method != "GET":
                raise ApiError(
                    403,
                    f"You do not have permission to {request.method} {request.path}: "
                    f"the user '{user.login}' may only view.",
                )
            if handler == self.post_assignment_runs:
                return handler(request, *match.groups())  # manages the lock itself
            with self.lock:
                self.state.tick(time.time())
                return handler(request, *match.groups())
        raise ApiError(404, f"No resource at {request.path}.")

    # -- shared helpers ------------------------------------------------------------------

    def _user(self, request: Request) -> User:
        return self.state.users[request.login]

    @staticmethod
    def _paging(request: Request) -> Paging:
        try:
            return parse_paging(
                request.param("$top"), request.param("$skip"), request.param("$inlinecount")
            )
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None

    @staticmethod
    def _envelope(
        items: Sequence[T], paging: Paging, render: Callable[[T], dict[str, Any]]
    ) -> dict[str, Any]:
        """ref §1.5: ``{Skip, Top, Total, Items}``; only the window is rendered."""
        window = items[paging.skip : paging.skip + paging.top]
        data: dict[str, Any] = {"Skip": paging.skip, "Top": paging.top}
        if paging.inline_count:
            data["Total"] = len(items)
        data["Items"] = [render(item) for item in window]
        return data

    def _odata(
        self,
        request: Request,
        items: list[T],
        fields: dict[str, Getter[T]],
        default_order: str | None = None,
    ) -> list[T]:
        """Apply ``$filter`` and ``$orderby`` (ref §1.6); unsupported syntax is 400."""
        try:
            clauses = parse_filter(request.param("$filter"), set(fields))
            order = parse_orderby(request.param("$orderby"), set(fields))
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None
        for clause in clauses:
            getter = fields[clause.field]
            test = _same if clause.op == "eq" else _contains
            items = [item for item in items if test(clause.value, getter(item))]
        if order is None and default_order is not None:
            order = (default_order, False)
        if order is not None:
            getter = fields[order[0]]
            items = sorted(items, key=lambda item: str(getter(item)[0] or ""), reverse=order[1])
        return items

    def _tql(
        self,
        request: Request,
        items: list[T],
        fields: dict[str, Getter[T]],
        in_packages: Callable[[str], set[str]] | None = None,
        ident: Callable[[T], str] | None = None,
    ) -> list[T]:
        """Apply the ``tql`` parameter (ref §1.7; subset in tql.py; errors are 400 [inference])."""
        try:
            query = parse_tql(request.param("tql"))
        except QueryError as exc:
            raise ApiError(400, f"The TQL query cannot be used: {exc}") from None
        for condition in query.conditions:
            if condition.op == "in_packages":
                if in_packages is None or ident is None or condition.field != "id":
                    raise ApiError(400, "Id IN Packages(...) is only supported on packages.")
                wanted = in_packages(condition.value)
                items = [item for item in items if ident(item) in wanted]
                continue
            getter = fields.get(condition.field)
            if getter is None:
                raise ApiError(400, f"The TQL field '{condition.field}' is not supported here.")
            value = condition.value
            if condition.op == "~":  # ref §3.2: '~' is *contains*
                items = [item for item in items if _contains(value, getter(item))]
            elif condition.op == "=":
                items = [item for item in items if _same(value, getter(item))]
            else:
                items = [item for item in items if not _same(value, getter(item))]
        if query.order_by is not None:
            getter = fields.get(query.order_by)
            if getter is None:
                raise ApiError(400, f"ORDER BY '{query.order_by}' is not supported here.")
            items = sorted(
                items, key=lambda item: str(getter(item)[0] or ""), reverse=query.descending
            )
        return items

    # -- discovery (ref §1.1) ------------------------------------------------------------

    def get_root(self, request: Request) -> Response:
        links = [
            {
                "Title": rel,
                "Href": f"{request.root}/api/{resource}",
                "Rel": rel,
                "Description": f"The {rel} collection (emulated).",
                "SupportedHttpMethods": methods,
                "SupportsOData": odata,
                "SupportsTQL": tql,
                "Help": f"{request.root}/help/api/{resource}",
            }
            for rel, resource, methods, odata, tql in _ROOT_LINKS
        ]
        return json_response(200, {"Links": links})

    def get_systeminfo(self, request: Request) -> Response:
        config = self.config
        return json_response(
            200,
            {
                "PackagePathSeparator": config.package_path_separator,
                "RootUrl": f"{request.root}/",
                "StaticContentRootUrl": f"{request.root}/content/",
                "TimeZoneId": "UTC",
                "UtcOffset": "00:00:00",
                "Version": config.version,
                "Modules": ["Core", "Duette"],  # [inference] the model's shape is unknown
            },
        )

    def get_test_types(self, request: Request) -> Response:
        """ref §3.1 (4.8 Swagger); the emulator knows the unit-test formats only."""
        subtypes = ["JUnit", "NUnit", "MSTest", "Gallio", "Cpptest", "JSUNit", "PHPUnit"]
        unit = {
            "Name": "UnitTest",
            "FriendlyName": "Unit Test",
            "Types": [{"Name": name, "FriendlyName": name} for name in subtypes],
        }
        return json_response(200, self._envelope([unit], self._paging(request), dict))

    def get_search(self, request: Request) -> Response:
        """ref §1.7: TQL search; [inference] the emulator searches automated tests only."""
        tests = self._tql(request, list(self.state.tests.values()), self._test_fields())

        def render(test: AutomatedTest) -> dict[str, Any]:
            return {
                **test_json(request.root, self.state, test, set()),
                "EntityType": "AutomatedTest",
            }

        return json_response(200, self._envelope(tests, self._paging(request), render))

    # -- projects, links and tickets (ref §4.1, §6) ---------------------------------------

    def get_projects(self, request: Request) -> Response:
        fields: dict[str, Getter[Project]] = {"name": lambda p: [p.name], "id": lambda p: [p.id]}
        projects = self._odata(request, list(self.state.projects.values()), fields)
        expand = request.expands()
        return json_response(
            200,
            self._envelope(
                projects,
                self._paging(request),
                lambda p: project_json(request.root, self.state, p, expand),
            ),
        )

    def post_projects(self, request: Request) -> Response:
        """ref §4.1 (6.x Swagger): Name and Description required; 409 on a taken name."""
        body = request.json_object()
        name = _required_text(body, "Name")
        if "Description" not in body:
            raise ApiError(403, "'Description' is required.")
        if self.state.project_by_name(name) is not None:
            raise ApiError(409, f"The project name '{name}' is already in use.")
        project = Project(new_guid(), name, time.time(), len(self.state.projects))
        self.state.projects[project.id] = project
        return json_response(201, project_json(request.root, self.state, project, set()))

    def get_project(self, request: Request, project_id: str) -> Response:
        project = _lookup(self.state.projects, project_id, "project")
        return json_response(
            200, project_json(request.root, self.state, project, request.expands())
        )

    def get_project_tickets(self, request: Request, project_id: str) -> Response:
        """ref §6.2: tickets of the project's trackers whose Key contains ``q``."""
        project = _lookup(self.state.projects, project_id, "project")
        text = request.param("q")
        tickets = [
            ticket
            for link in self.state.project_links(project.id)
            for ticket in link.tickets_by_key.values()
            if _contains(text, [ticket.key])
        ]
        return json_response(
            200,
            self._envelope(
                tickets,
                self._paging(request),
                lambda t: ticket_json(request.root, self.state, t),
            ),
        )

    def get_links(self, request: Request) -> Response:
        fields: dict[str, Any] = {
            "projectid": lambda link: [link.project_id],
            "name": lambda link: [link.name],
            "type": lambda link: ["Incident"],
        }
        links = self._odata(request, list(self.state.links.values()), fields)
        return json_response(
            200,
            self._envelope(
                links,
                self._paging(request),
                lambda link: link_json(request.root, self.state, link),
            ),
        )

    def get_link(self, request: Request, link_id: str) -> Response:
        link = _lookup(self.state.links, link_id, "external system link")
        return json_response(200, link_json(request.root, self.state, link))

    def _ticket(self, link_id: str, ticket_id: str, status: int) -> Ticket:
        link = self.state.links.get(normalize_guid(link_id) or "")
        ticket = None
        if link is not None:
            ticket = next((t for t in link.tickets_by_key.values() if t.id == ticket_id), None)
        if ticket is None:
            raise ApiError(
                status, f"No ticket '{ticket_id}' in the external system link '{link_id}'."
            )
        return ticket

    def get_ticket(self, request: Request, link_id: str, ticket_id: str) -> Response:
        """ref §6.3: 200 or 404."""
        ticket = self._ticket(link_id, ticket_id, 404)
        return json_response(200, ticket_json(request.root, self.state, ticket))

    def post_ticket_link(self, request: Request, link_id: str, ticket_id: str) -> Response:
        """ref §6.3: start creating the incident that mirrors a ticket -> 202 task.

        The reference lists 403 (not 404) for invalid parameters, so an unknown link or
        ticket is a 403 here.
        """
        ticket = self._ticket(link_id, ticket_id, 403)
        now = time.time()
        task = Task(
            id=f"ticketlinking_{new_guid()}",
            kind="ticketlink",
            started_at=now,
            due_at=now + self.config.link_delay,
            total=0,
            processed=0,
            progress=0.0,
            message=None,
            ticket=ticket,
        )
        self.state.add_task(task)
        return json_response(202, task_json(request.root, task))

    def get_incident(self, request: Request, incident_id: str) -> Response:
        incident = _lookup(self.state.incidents, incident_id, "incident")
        return json_response(200, incident_json(request.root, self.state, incident))

    # -- packages (ref §4.2, §4.3) --------------------------------------------------------

    def _package_fields(self) -> dict[str, Getter[Package]]:
        state = self.state

        def project(p: Package) -> list[str | None]:
            return [p.project_id, state.projects[p.project_id].name]

        def parent(p: Package) -> list[str | None]:
            if p.parent_id is None:
                return [None]
            return [p.parent_id, state.packages[p.parent_id].name]

        return {
            "id": lambda p: [p.id],
            "name": lambda p: [p.name],
            "project": project,
            "projectid": lambda p: [p.project_id],
            "package": parent,
            "parent": parent,
            "parentid": lambda p: [p.parent_id],
            "path": lambda p: [state.package_path(p)],
        }

    def get_packages(self, request: Request, kind: str) -> Response:
        """ref §1.7: ``Id IN Packages('<name or path>') AND Project|Package='<guid>'``."""
        state = self.state

        def in_packages(value: str) -> set[str]:
            # a package whose Name, or whose full path, equals the value
            return {
                p.id
                for p in state.packages_of(kind)
                if p.name == value or state.package_path(p) == value
            }

        packages = self._tql(
            request,
            state.packages_of(kind),
            self._package_fields(),
            in_packages=in_packages,
            ident=lambda p: p.id,
        )
        return json_response(
            200,
            self._envelope(
                packages,
                self._paging(request),
                lambda p: package_json(request.root, state, p),
            ),
        )

    def post_packages(self, request: Request, kind: str) -> Response:
        """ref §4.2 / §4.3: ``{"ProjectId","Name"}`` or ``{"ParentId","Name"}`` -> 201."""
        body = request.json_object()
        name = _required_text(body, "Name")
        parent_id = _optional_text(body, "ParentId")
        project_id = _optional_text(body, "ProjectId")
        parent: Package | None = None
        if parent_id is not None:
            parent = _lookup(self.state.packages, parent_id, f"{kind} package")
            if parent.kind != kind:
                raise ApiError(404, f"No {kind} package with id '{parent_id}' was found.")
            if project_id is not None and normalize_guid(project_id) != parent.project_id:
                raise ApiError(403, "'ProjectId' does not match the project of 'ParentId'.")
            project = self.state.projects[parent.project_id]
        elif project_id is not None:
            project = _lookup(self.state.projects, project_id, "project")
        else:
            raise ApiError(403, "Either 'ProjectId' or 'ParentId' is required.")
        package = self.state.add_package(
            kind, name, project.id, parent.id if parent else None, time.time()
        )
        return json_response(201, package_json(request.root, self.state, package))

    def get_package(self, request: Request, kind: str, package_id: str) -> Response:
        package = self._package(kind, package_id)
        return json_response(200, package_json(request.root, self.state, package))

    def get_package_children(self, request: Request, kind: str, package_id: str) -> Response:
        """ref §4.2/§4.3: OData; [inference] the children are the child packages."""
        package = self._package(kind, package_id)
        children = [p for p in self.state.packages_of(kind) if p.parent_id == package.id]
        fields: dict[str, Getter[Package]] = {"name": lambda p: [p.name], "id": lambda p: [p.id]}
        children = self._odata(request, children, fields)
        return json_response(
            200,
            self._envelope(
                children,
                self._paging(request),
                lambda p: package_json(request.root, self.state, p),
            ),
        )

    def _package(self, kind: str, package_id: str) -> Package:
        package = _lookup(self.state.packages, package_id, f"{kind} package")
        if package.kind != kind:
            raise ApiError(404, f"No {kind} package with id '{package_id}' was found.")
        return package

    # -- automated tests (ref §3.2, §3.3) -------------------------------------------------

    def _test_fields(self) -> dict[str, Getter[AutomatedTest]]:
        state = self.state
        return {
            "id": lambda t: [t.id],
            "name": lambda t: [t.name],
            "type": lambda t: [t.type],
            "package": lambda t: [t.package_id, state.packages[t.package_id].name],
            "packageid": lambda t: [t.package_id],
            "project": lambda t: [t.project_id, state.projects[t.project_id].name],
            "projectid": lambda t: [t.project_id],
        }

    def get_tests(self, request: Request) -> Response:
        """ref §3.2: TQL, e.g. ``Name~'<text>' AND Package='<guid>'`` (``~`` = contains)."""
        tests = self._tql(request, list(self.state.tests.values()), self._test_fields())
        expand = request.expands()
        return json_response(
            200,
            self._envelope(
                tests,
                self._paging(request),
                lambda t: test_json(request.root, self.state, t, expand),
            ),
        )

    def post_tests(self, request: Request) -> Response:
        """ref §3.2: ``{"PackageId","Name","Type","Configuration"}`` -> 201; missing -> 403."""
        body = request.json_object()
        package_id = _required_text(body, "PackageId")
        name = _required_text(body, "Name")
        test_type = _optional_text(body, "Type") or "UnitTest"  # [inference] default
        configuration = body.get("Configuration") or {}
        if not isinstance(configuration, dict):
            raise ApiError(403, "'Configuration' must be an object.")
        package = self._package("script", package_id)
        test = self.state.add_test(
            package, name, test_type, configuration, self._user(request), time.time()
        )
        return json_response(201, test_json(request.root, self.state, test, set()))

    def get_test(self, request: Request, test_id: str) -> Response:
        test = _lookup(self.state.tests, test_id, "automated test")
        return json_response(200, test_json(request.root, self.state, test, request.expands()))

    def get_test_assignments(self, request: Request, test_id: str) -> Response:
        """ref §3.3 "Test Automated Test Assignments": TQL over the test's assignments."""
        test = _lookup(self.state.tests, test_id, "automated test")
        mine = [a for a in self.state.assignments.values() if a.test_id == test.id]
        return self._assignment_list(request, mine)

    def post_test_assignments(self, request: Request, test_id: str) -> Response:
        test = _lookup(self.state.tests, test_id, "automated test")
        body = request.json_object()
        return self._create_assignment(request, _required_text(body, "PackageId"), test)

    # -- assignments (ref §3.4, §3.5) -----------------------------------------------------

    def _assignment_fields(self) -> dict[str, Getter[Assignment]]:
        state = self.state
        return {
            "id": lambda a: [a.id],
            "testid": lambda a: [a.test_id],
            "automatedtestid": lambda a: [a.test_id],
            "name": lambda a: [state.tests[a.test_id].name],
            "status": lambda a: [state.assignment_status(a)],
            "package": lambda a: [a.package_id, state.packages[a.package_id].name],
            "packageid": lambda a: [a.package_id],
            "project": lambda a: [
                state.packages[a.package_id].project_id,
                state.projects[state.packages[a.package_id].project_id].name,
            ],
        }

    def _assignment_list(self, request: Request, assignments: list[Assignment]) -> Response:
        chosen = self._tql(request, assignments, self._assignment_fields())
        expand = request.expands()
        return json_response(
            200,
            self._envelope(
                chosen,
                self._paging(request),
                lambda a: assignment_json(request.root, self.state, a, expand),
            ),
        )

    def get_assignments(self, request: Request) -> Response:
        """ref §1.7: ``TestId=<guid> AND Package=<guid>`` (quotes optional)."""
        return self._assignment_list(request, list(self.state.assignments.values()))

    def post_assignments(self, request: Request) -> Response:
        """ref §3.4: ``{"PackageId","AutomatedTestId"}`` -> 201; missing -> 403."""
        body = request.json_object()
        package_id = _required_text(body, "PackageId")
        test = _lookup(self.state.tests, _required_text(body, "AutomatedTestId"), "automated test")
        return self._create_assignment(request, package_id, test)

    def _create_assignment(
        self, request: Request, package_id: str, test: AutomatedTest
    ) -> Response:
        package = self._package("execution", package_id)
        if package.project_id != test.project_id:
            raise ApiError(
                403, "The automated test and the execution package are in different projects."
            )
        assignment = self.state.add_assignment(package, test, self._user(request), time.time())
        return json_response(201, assignment_json(request.root, self.state, assignment, set()))

    def get_assignment(self, request: Request, assignment_id: str) -> Response:
        assignment = _lookup(self.state.assignments, assignment_id, "automated test assignment")
        return json_response(
            200, assignment_json(request.root, self.state, assignment, request.expands())
        )

    # -- runs (ref §3.6 - §3.8) ----------------------------------------------------------

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
        """ref §3.6 GET: OData (``$orderby=ImportedAt desc``, ``$top``, ``$expand=Totals``)."""
        assignment = _lookup(self.state.assignments, assignment_id, "automated test assignment")
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
        """ref §3.6 POST: a multipart upload of JUnit XML (or a zip) -> 202 + import task.

        The task does not name the run (ref §3.6). Parsing happens outside the lock; the
        task completes ``import_delay`` seconds later, with an ``Error`` and no run when the
        file was refused (malformed XML, a DOCTYPE, no XML in a zip).
        """
        with self.lock:
            self.state.tick(time.time())
            assignment = _lookup(self.state.assignments, assignment_id, "automated test assignment")
        filename, content = _file_part(request)
        received_at = time.time()
        parsed = parse_upload(filename, content, received_at)
        with self.lock:
            now = time.time()
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
        """ref §3.8: TQL (minimal: Id, Status, AssignmentId)."""
        runs = self._tql(request, list(self.state.runs.values()), self._run_fields())
        expand = request.expands()
        return json_response(
            200,
            self._envelope(
                runs,
                self._paging(request),
                lambda r: run_json(request.root, self.state, r, expand),
            ),
        )

    def get_run(self, request: Request, run_id: str) -> Response:
        run = _lookup(self.state.runs, run_id, "automated test run")
        return json_response(200, run_json(request.root, self.state, run, request.expands()))

    # -- result nodes (ref §3.9, §3.12) ---------------------------------------------------

    def _node(self, run_id: str, node_id: str) -> tuple[Run, ResultNode]:
        run = _lookup(self.state.runs, run_id, "automated test run")
        return run, _lookup(run.nodes, node_id, "result node")

    @staticmethod
    def _node_list(request: Request, run: Run, nodes: Iterable[ResultNode]) -> Response:
        with_children = "children" in request.expands()
        return json_response(
            200,
            [node_json(request.root, run, n, with_children=with_children) for n in nodes],
        )

    def get_run_nodes(self, request: Request, run_id: str) -> Response:
        """ref §3.9: a **bare JSON array** of the roots; ``$expand=Children`` adds one level."""
        run = _lookup(self.state.runs, run_id, "automated test run")
        return self._node_list(request, run, run.roots)

    def get_children(self, request: Request, run_id: str, node_id: str) -> Response:
        """ref §3.9: a bare array; the empty GUID gives the roots; ``statuses`` filters them.

        An unknown status in ``statuses`` is a 400 (ref §3.9).
        """
        if normalize_guid(node_id) == EMPTY_GUID:
            run = _lookup(self.state.runs, run_id, "automated test run")
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
        """ref §3.9: the node (a single object, as in the Swagger)."""
        run, node = self._node(run_id, node_id)
        with_children = "children" in request.expands()
        return json_response(200, node_json(request.root, run, node, with_children=with_children))

    def patch_node(self, request: Request, run_id: str, node_id: str) -> Response:
        """ref §3.9: PATCH ``{"Notes": "..."}``; only Notes can change."""
        run, node = self._node(run_id, node_id)
        body = request.json_object()
        if "Notes" not in body or not isinstance(body["Notes"], (str, type(None))):
            raise ApiError(403, "The body must carry 'Notes' (a string or null).")
        node.notes = body["Notes"]
        return json_response(200, node_json(request.root, run, node))

    def get_node_incidents(self, request: Request, run_id: str, node_id: str) -> Response:
        """ref §3.12: ``{"Items": [...]}`` (not a paging envelope)."""
        run, node = self._node(run_id, node_id)
        items = [node_incident_json(request.root, run, node, i) for i in node.incident_ids]
        return json_response(200, {"Items": items})

    def post_node_incident(self, request: Request, run_id: str, node_id: str) -> Response:
        """ref §3.12: ``{"IncidentId"}`` -> 201; 400 bad body; 404 unknown run/node/incident."""
        run, node = self._node(run_id, node_id)
        try:
            body = request.json_object()
        except ApiError as exc:
            raise ApiError(400, exc.message) from None
        raw = body.get("IncidentId")
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "The body must carry 'IncidentId'.")
        incident = _lookup(self.state.incidents, raw, "incident")
        if incident.id in node.incident_ids:
            # [inference] the reference does not say; ET reports validation failures as 403
            raise ApiError(403, "The incident is already linked to this result node.")
        self.state.link_incident(run, node, incident)
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
        """ref §3.12: 200; 404 also when the link does not exist."""
        run, node, guid = self._linked(run_id, node_id, incident_id)
        node.incident_ids.remove(guid)
        return json_response(200, node_incident_json(request.root, run, node, guid))

    # -- background tasks (ref §5, seed 004) ----------------------------------------------

    def get_task(self, request: Request, task_id: str) -> Response:
        """ref §5.2: 200, or 404 for an unknown or flushed task."""
        task = self.state.tasks.get(task_id)
        if task is None:
            raise ApiError(404, f"No background task with id '{task_id}' exists.")
        return json_response(200, task_json(request.root, task))

    def post_task(self, request: Request) -> Response:
        """ref §5.1: ``{"Type","Parameters"}`` -> 202 + ``Location``; 500 if the handler fails."""
        body = request.json_object()
        task_type = _required_text(body, "Type")
        parameters = body.get("Parameters") or {}
        if not isinstance(parameters, dict):
            raise ApiError(403, "'Parameters' must be an object.")
        kind = task_type.lower()
        if kind == "reindex":
            return self._start_reindex(request)
        if kind == LINK_TASK_TYPE.lower() and not self.config.legacy_server:
            return self._start_link(request, parameters)
        raise ApiError(500, f"No background task type named '{task_type}' is registered")

    def _start_reindex(self, request: Request) -> Response:
        """ref §5.1: the documented Reindex example, finished after ``link_delay``."""
        now = time.time()
        task = Task(
            id=f"reindex-{new_guid()}",
            kind="reindex",
            started_at=now,
            due_at=now + self.config.link_delay,
            total=10,
            processed=1,
            progress=0.1,
            message="Queuing index events",
        )
        self.state.add_task(task)
        location = f"{request.root}/api/backgroundtask/{task.id}"
        return json_response(202, task_json(request.root, task), {"Location": location})

    def _start_link(self, request: Request, parameters: dict[str, Any]) -> Response:
        """seed 004: ``LinkTicketToAutomatedTestRunResultNode``.

        404 unknown run or node; 403 missing parameter; 500 when the ticket is not found (in
        the project's trackers, or in the given link), is ambiguous across two trackers, or
        is already linked to the node. Otherwise 202 with the seed's body and its
        ``Location`` quirk (no ``/backgroundtask/`` segment).
        """
        run_id = _required_text(parameters, "AutomatedTestRunId")
        node_id = _required_text(parameters, "ResultNodeId")
        key = _required_text(parameters, "Key")
        link_id = _optional_text(parameters, "ExternalSystemLinkId")
        run, node = self._node(run_id, node_id)
        project = self.state.run_project(run)
        links = self.state.project_links(project.id)
        if link_id is not None:
            chosen = [link for link in links if link.id == normalize_guid(link_id)]
            if not chosen:
                raise ApiError(
                    500,
                    f"The external system link '{link_id}' is not a defect tracker "
                    f"of project '{project.name}'.",
                )
            links = chosen
        tickets = [link.tickets_by_key[key] for link in links if key in link.tickets_by_key]
        if not tickets:
            raise ApiError(
                500,
                f"Could not find the ticket '{key}' in the defect trackers "
                f"of project '{project.name}'.",
            )
        if len(tickets) > 1:
            names = ", ".join(self.state.links[t.link_id].name for t in tickets)
            raise ApiError(
                500,
                f"The ticket key '{key}' exists in more than one external system ({names}); "
                "pass 'ExternalSystemLinkId' to choose one.",
            )
        ticket = tickets[0]
        linked = ticket.incident_id is not None and ticket.incident_id in node.incident_ids
        if linked or self.state.pending_link(run.id, node.id, ticket):
            # [inference] a link still being created counts as linked
            raise ApiError(500, f"The ticket '{key}' is already linked to this result node.")
        now = time.time()
        task = Task(
            id=f"linktickettoautomatedtestrunresultnode_{new_guid()}",
            kind="link",
            started_at=now,
            due_at=now + self.config.link_delay,
            total=3,
            processed=2,
            progress=0.67,
            message="Creating link",
            done_message="Link created",  # [inference]
            run_id=run.id,
            node_id=node.id,
            ticket=ticket,
        )
        self.state.add_task(task)
        # seed 004 quirk: the Location header has no /backgroundtask/ segment
        return json_response(
            202, task_json(request.root, task), {"Location": f"{request.root}/api/{task.id}"}
        )


def _file_part(request: Request) -> tuple[str, bytes]:
    """The one file part of a multipart body (ref §1.10, §3.6): (filename, bytes).

    Anything that is not ``multipart/*`` is a 415 (ref §1.3); [inference] ``multipart/form-data``
    is accepted as well as ``multipart/mixed``, and the part name is not significant.
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
