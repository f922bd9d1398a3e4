"""Projects, releases, test cycles, execution statuses and test cases
(docs/servers/qtest.md §6, §8)."""

from __future__ import annotations

from .base import ResourceBase, int_id
from .protocol import ApiError, Request, Response, json_response, page_of
from .state import Project
from .views import cycle_view, project_view, release_view, test_case_view

__all__ = ["ProjectResources"]

#: docs/servers/qtest.md §8: ``parentType`` of the cycle list and create calls.
CYCLE_PARENT_TYPES = ("root", "release", "test-cycle")
#: docs/servers/qtest.md §8: a cycle ``name`` has 1..500 characters.
MAX_CYCLE_NAME = 500


class ProjectResources(ResourceBase):
    # -- projects and releases ---------------------------------------------------------

    def get_projects(self, request: Request) -> Response:
        """docs/servers/qtest.md §8 "Gets multiple Projects": a bare array [inference:
        unpaged]."""
        projects = sorted(self.state.projects.values(), key=lambda p: p.id)
        return json_response(200, [project_view(p, request.root) for p in projects])

    def get_project(self, request: Request, project_id: str) -> Response:
        return json_response(200, project_view(self.project(project_id), request.root))

    def get_releases(self, request: Request, project_id: str) -> Response:
        project = self.project(project_id)
        releases = [r for r in self.state.releases.values() if r.project_id == project.id]
        return json_response(200, [release_view(r, request.root) for r in releases])

    def get_release(self, request: Request, project_id: str, release_id: str) -> Response:
        release = self.in_project(self.state.releases, project_id, release_id, "Release")
        return json_response(200, release_view(release, request.root))

    # -- test cycles (docs/servers/qtest.md §8) ----------------------------------------------------

    def _parent(self, request: Request, project: Project) -> tuple[str, int]:
        """``parentType``/``parentId``. [inference] both absent: the root; a parent that does
        not exist: 404; a type outside the enum: 400."""
        parent_type = request.param("parentType", "root").strip().lower() or "root"
        raw_id = request.param("parentId", "0").strip() or "0"
        parent_id = int_id(raw_id, "parent")
        if parent_type not in CYCLE_PARENT_TYPES:
            raise ApiError(
                400, f"parentType '{parent_type}' is not one of {', '.join(CYCLE_PARENT_TYPES)}."
            )
        if parent_type == "root":
            return "root", 0
        pool = self.state.releases if parent_type == "release" else self.state.cycles
        parent = pool.get(parent_id)
        if parent is None or parent.project_id != project.id:
            raise ApiError(404, f"No {parent_type} with id {parent_id} in project {project.id}.")
        return parent_type, parent_id

    def get_cycles(self, request: Request, project_id: str) -> Response:
        """A bare array of ``TestCycleResource``; ``expand=descendants`` nests sub-cycles; a
        negative ``pageSize`` without ``page`` returns all (docs/servers/qtest.md §2, §8)."""
        project = self.project(project_id)
        parent_type, parent_id = self._parent(request, project)
        page = page_of(request, negative_means_all=True)
        deep = "descendants" in request.param("expand").lower()
        cycles = sorted(
            self.state.child_cycles(project.id, parent_type, parent_id), key=lambda c: c.id
        )
        views = [cycle_view(self.state, c, request.root, deep=deep) for c in page.slice(cycles)]
        return json_response(200, views)

    def post_cycles(self, request: Request, project_id: str) -> Response:
        """docs/servers/qtest.md §8: body ``{name, description, target_release_id}`` -> 201; 400 on
        a bad body.

        [inference] names need not be unique: a second POST with the same name makes a second
        cycle (so a client must look before it creates, and never blindly retry a lost POST).
        """
        project = self.project(project_id)
        parent_type, parent_id = self._parent(request, project)
        body = request.json_object()
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_CYCLE_NAME:
            raise ApiError(400, f"name is required and must have 1..{MAX_CYCLE_NAME} characters.")
        description = body.get("description") or ""
        if not isinstance(description, str):
            raise ApiError(400, "description must be a string.")
        release_id = body.get("target_release_id")
        if release_id is not None:
            release = self.state.releases.get(release_id) if isinstance(release_id, int) else None
            if release is None or release.project_id != project.id:
                raise ApiError(400, f"target_release_id {release_id!r} is not a release here.")
        if parent_type == "release" and release_id is None:
            release_id = parent_id  # [inference] a cycle under a release targets it
        cycle = self.state.add_cycle(
            project.id, name, parent_type, parent_id, self.now, description, release_id
        )
        return json_response(201, cycle_view(self.state, cycle, request.root, children=True))

    def get_cycle(self, request: Request, project_id: str, cycle_id: str) -> Response:
        cycle = self.in_project(self.state.cycles, project_id, cycle_id, "Test cycle")
        deep = "descendants" in request.param("expand").lower()
        return json_response(200, cycle_view(self.state, cycle, request.root, deep=deep))

    # -- statuses and test cases -------------------------------------------------------

    def get_execution_statuses(self, request: Request, project_id: str) -> Response:
        """docs/servers/qtest.md §6 ``StatusResource`` list (spec example
        ``{"id": 601, "name": "Passed"}``)."""
        self.project(project_id)
        colours = {"Passed": "#0cdda8", "Failed": "#ff0000", "Blocked": "#aaaaaa"}
        return json_response(
            200,
            [
                {
                    "id": status_id,
                    "name": name,
                    "is_default": name == "Unexecuted",
                    "color": colours.get(name, "#cccccc"),
                    "active": True,
                }
                for name, status_id in self.config.execution_statuses.items()
            ],
        )

    def get_test_case(self, request: Request, project_id: str, case_id: str) -> Response:
        case = self.in_project(self.state.test_cases, project_id, case_id, "Test case")
        return json_response(200, test_case_view(self.state, case, request.root))
