"""Discovery, projects, defect trackers and tickets, packages, automated tests, assignments.

These are the resources an uploader walks to place its results (docs/servers/et.md §9 steps 1-4).
"""

from __future__ import annotations

from typing import Any

from .entities import Assignment, AutomatedTest, Link, Package, Project
from .protocol import ApiError, Request, Response, json_response, new_guid, normalize_guid
from .resource import Getter, ResourceBase, contains, lookup, optional_text, required_text
from .result_views import incident_json
from .views import (
    assignment_json,
    link_json,
    package_json,
    project_json,
    test_json,
    ticket_json,
)

__all__ = ["CatalogResources"]

#: docs/servers/et.md §2.1: the root ``Links`` (Rel, resource, methods, OData, TQL).
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


class CatalogResources(ResourceBase):
    """docs/servers/et.md §2.1, §4.2-§4.3, §6, §8.1-§8.2."""

    # -- discovery (docs/servers/et.md §2.1) -------------------------------------------------------

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
        """docs/servers/et.md §4.1 (4.8 Swagger); the emulator knows the unit-test formats only."""
        subtypes = ["JUnit", "NUnit", "MSTest", "Gallio", "Cpptest", "JSUNit", "PHPUnit"]
        unit = {
            "Name": "UnitTest",
            "FriendlyName": "Unit Test",
            "Types": [{"Name": name, "FriendlyName": name} for name in subtypes],
        }
        return json_response(200, self._envelope([unit], self._paging(request), dict))

    def get_search(self, request: Request) -> Response:
        """docs/servers/et.md §2.7: TQL search; [inference] the emulator searches automated tests
        only."""
        tests = self._tql(request, list(self.state.tests.values()), self._test_fields())

        def render(test: AutomatedTest) -> dict[str, Any]:
            return {
                **test_json(request.root, self.state, test, set()),
                "EntityType": "AutomatedTest",
            }

        return json_response(200, self._envelope(tests, self._paging(request), render))

    # -- projects, links and tickets (docs/servers/et.md §6.1, §8) ---------------------------------

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
        """docs/servers/et.md §6.1 (6.x Swagger): Name and Description required; 409 on a taken
        name."""
        body = request.json_object()
        name = required_text(body, "Name")
        if "Description" not in body:
            raise ApiError(403, "'Description' is required.")
        if self.state.project_by_name(name) is not None:
            raise ApiError(409, f"The project name '{name}' is already in use.")
        project = Project(new_guid(), name, self.now(), len(self.state.projects))
        self.state.projects[project.id] = project
        return json_response(201, project_json(request.root, self.state, project, set()))

    def get_project(self, request: Request, project_id: str) -> Response:
        project = lookup(self.state.projects, project_id, "project")
        return json_response(
            200, project_json(request.root, self.state, project, request.expands())
        )

    def get_project_tickets(self, request: Request, project_id: str) -> Response:
        """docs/servers/et.md §8.2: tickets of the project's trackers whose Key contains ``q``."""
        project = lookup(self.state.projects, project_id, "project")
        text = request.param("q")
        tickets = [
            ticket
            for link in self.state.project_links(project.id)
            for ticket in link.tickets_by_key.values()
            if contains(text, [ticket.key])
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
        fields: dict[str, Getter[Link]] = {
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
        link = lookup(self.state.links, link_id, "external system link")
        return json_response(200, link_json(request.root, self.state, link))

    def get_ticket(self, request: Request, link_id: str, ticket_id: str) -> Response:
        """docs/servers/et.md §8.3: 200 or 404."""
        ticket = self._ticket(link_id, ticket_id, 404)
        return json_response(200, ticket_json(request.root, self.state, ticket))

    def get_incident(self, request: Request, incident_id: str) -> Response:
        incident = lookup(self.state.incidents, incident_id, "incident")
        return json_response(200, incident_json(request.root, self.state, incident))

    # -- packages (docs/servers/et.md §6.2, §6.3) --------------------------------------------------

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
        """docs/servers/et.md §2.7:
        ``Id IN Packages('<name or path>') AND Project|Package='<guid>'``."""
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
        """docs/servers/et.md §6.2 / §6.3: ``{"ProjectId","Name"}`` or ``{"ParentId","Name"}`` ->
        201."""
        body = request.json_object()
        name = required_text(body, "Name")
        parent_id = optional_text(body, "ParentId")
        project_id = optional_text(body, "ProjectId")
        parent: Package | None = None
        if parent_id is not None:
            parent = lookup(self.state.packages, parent_id, f"{kind} package")
            if parent.kind != kind:
                raise ApiError(404, f"No {kind} package with id '{parent_id}' was found.")
            if project_id is not None and normalize_guid(project_id) != parent.project_id:
                raise ApiError(403, "'ProjectId' does not match the project of 'ParentId'.")
            project = self.state.projects[parent.project_id]
        elif project_id is not None:
            project = lookup(self.state.projects, project_id, "project")
        else:
            raise ApiError(403, "Either 'ProjectId' or 'ParentId' is required.")
        package = self.state.add_package(
            kind, name, project.id, parent.id if parent else None, self.now()
        )
        return json_response(201, package_json(request.root, self.state, package))

    def get_package(self, request: Request, kind: str, package_id: str) -> Response:
        package = self._package(kind, package_id)
        return json_response(200, package_json(request.root, self.state, package))

    def get_package_children(self, request: Request, kind: str, package_id: str) -> Response:
        """docs/servers/et.md §6.2/§6.3: OData; [inference] the children are the child packages."""
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
        package = lookup(self.state.packages, package_id, f"{kind} package")
        if package.kind != kind:
            raise ApiError(404, f"No {kind} package with id '{package_id}' was found.")
        return package

    # -- automated tests (docs/servers/et.md §4.2) -------------------------------------------------

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
        """docs/servers/et.md §4.2: TQL, e.g. ``Name~'<text>' AND Package='<guid>'`` (``~`` =
        contains)."""
        return self._tql_page(
            request,
            list(self.state.tests.values()),
            self._test_fields(),
            lambda t, expand: test_json(request.root, self.state, t, expand),
        )

    def post_tests(self, request: Request) -> Response:
        """docs/servers/et.md §4.2: ``{"PackageId","Name","Type","Configuration"}`` -> 201; missing
        -> 403."""
        body = request.json_object()
        package_id = required_text(body, "PackageId")
        name = required_text(body, "Name")
        test_type = optional_text(body, "Type") or "UnitTest"  # [inference] default
        configuration = body.get("Configuration") or {}
        if not isinstance(configuration, dict):
            raise ApiError(403, "'Configuration' must be an object.")
        package = self._package("script", package_id)
        test = self.state.add_test(
            package, name, test_type, configuration, self._user(request), self.now()
        )
        return json_response(201, test_json(request.root, self.state, test, set()))

    def get_test(self, request: Request, test_id: str) -> Response:
        test = lookup(self.state.tests, test_id, "automated test")
        return json_response(200, test_json(request.root, self.state, test, request.expands()))

    def get_test_assignments(self, request: Request, test_id: str) -> Response:
        """docs/servers/et.md §4.2 "Test Automated Test Assignments": TQL over the test's
        assignments."""
        test = lookup(self.state.tests, test_id, "automated test")
        mine = [a for a in self.state.assignments.values() if a.test_id == test.id]
        return self._assignment_list(request, mine)

    def post_test_assignments(self, request: Request, test_id: str) -> Response:
        test = lookup(self.state.tests, test_id, "automated test")
        body = request.json_object()
        return self._create_assignment(request, required_text(body, "PackageId"), test)

    # -- assignments (docs/servers/et.md §4.3) -----------------------------------------------------

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
        return self._tql_page(
            request,
            assignments,
            self._assignment_fields(),
            lambda a, expand: assignment_json(request.root, self.state, a, expand),
        )

    def get_assignments(self, request: Request) -> Response:
        """docs/servers/et.md §2.7: ``TestId=<guid> AND Package=<guid>`` (quotes optional)."""
        return self._assignment_list(request, list(self.state.assignments.values()))

    def post_assignments(self, request: Request) -> Response:
        """docs/servers/et.md §4.3: ``{"PackageId","AutomatedTestId"}`` -> 201; missing -> 403."""
        body = request.json_object()
        package_id = required_text(body, "PackageId")
        test = lookup(self.state.tests, required_text(body, "AutomatedTestId"), "automated test")
        return self._create_assignment(request, package_id, test)

    def _create_assignment(
        self, request: Request, package_id: str, test: AutomatedTest
    ) -> Response:
        package = self._package("execution", package_id)
        if package.project_id != test.project_id:
            raise ApiError(
                403, "The automated test and the execution package are in different projects."
            )
        assignment = self.state.add_assignment(package, test, self._user(request), self.now())
        return json_response(201, assignment_json(request.root, self.state, assignment, set()))

    def get_assignment(self, request: Request, assignment_id: str) -> Response:
        assignment = lookup(self.state.assignments, assignment_id, "automated test assignment")
        return json_response(
            200, assignment_json(request.root, self.state, assignment, request.expands())
        )
