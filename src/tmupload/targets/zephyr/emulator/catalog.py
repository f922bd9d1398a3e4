"""Users, projects, releases, preferences, the repository tree and test cases
(docs/servers/zephyr.md §3–§5.3)."""

from __future__ import annotations

import json
from typing import Any

from .base import Resources
from .protocol import ApiError, Request, Response, as_int, json_response, parse_us_date
from .state import Folder, Tct, Testcase, User
from .views import (
    folder_view,
    page_envelope,
    project_view,
    release_view,
    status_list,
    tct_view,
    user_view,
)

__all__ = ["STATUS_PREFERENCE", "CatalogResources"]

#: docs/servers/zephyr.md §5.6: the preference that holds the execution status list.
STATUS_PREFERENCE = "testresult.testresultStatus.LOV"
#: docs/servers/zephyr.md §5.4: the system preference that makes cycles need an environment.
ENVIRONMENT_PREFERENCE = "cycle.environment.enabled"


def _page(request: Request, items: list[Any]) -> dict[str, Any]:
    """``offset``/``pagesize`` paging (docs/servers/zephyr.md §2). [inference] an absent or 0
    ``pagesize`` means everything (the plugin asks releases with ``pagesize=0`` and expects them
    all)."""
    offset = max(request.int_param("offset", 0) or 0, 0)
    size = request.int_param("pagesize", 0) or 0
    chunk = items[offset : offset + size] if size > 0 else items[offset:]
    return page_envelope(chunk, offset, len(items))


class CatalogResources(Resources):
    # -- users (docs/servers/zephyr.md §3) ---------------------------------------------------------

    def get_current_user(self, request: Request, user: User) -> Response:
        return json_response(200, user_view(user))

    def delete_logout(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §3 [BP]: ``DELETE /user/logout`` ends a session."""
        for token, (login, _) in list(self.state.sessions.items()):
            if login == user.login:
                del self.state.sessions[token]
        return json_response(200, {"message": "Logged out."})

    # -- projects and releases (docs/servers/zephyr.md §5.1) ---------------------------------------

    def get_projects(self, request: Request, user: User) -> Response:
        """[inference] every project is visible to every user."""
        return json_response(200, [project_view(p) for p in self.state.projects.values()])

    def get_user_projects(self, request: Request, user: User, user_id: str) -> Response:
        if self.state.user_by_id(int(user_id)) is None:
            raise ApiError(404, f"User {user_id} not found.")
        return self.get_projects(request, user)

    def get_user_project_ids(self, request: Request, user: User, user_id: str) -> Response:
        if self.state.user_by_id(int(user_id)) is None:
            raise ApiError(404, f"User {user_id} not found.")
        return json_response(200, list(self.state.projects))

    def get_project(self, request: Request, user: User, project_id: str) -> Response:
        return json_response(200, project_view(self.project(int(project_id))))

    def _releases_of(self, project_id: str) -> list[dict[str, Any]]:
        project = self.project(int(project_id))
        return [release_view(r) for r in self.state.releases.values() if r.project_id == project.id]

    def get_project_releases(self, request: Request, user: User, project_id: str) -> Response:
        """docs/servers/zephyr.md §5.1: a bare array."""
        return json_response(200, self._releases_of(project_id))

    def get_paged_releases(self, request: Request, user: User, project_id: str) -> Response:
        """docs/servers/zephyr.md §5.1 [CLIENT]: ``{"results": [...]}``."""
        return json_response(200, _page(request, self._releases_of(project_id)))

    def get_release(self, request: Request, user: User, release_id: str) -> Response:
        return json_response(200, release_view(self.release(int(release_id))))

    def post_release(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.1 [DOC]:
        ``{"name", "description", "releaseStartDate", "releaseEndDate", "projectId"}`` with
        ``MM/dd/yyyy`` dates."""
        body = request.json_object()
        name = _name(body.get("name"), "name")
        project_id = as_int(body.get("projectId"), "projectId")
        assert project_id is not None
        if project_id not in self.state.projects:
            raise ApiError(400, f"Project {project_id} does not exist.")
        start = parse_us_date(body.get("releaseStartDate"), "releaseStartDate")
        end = parse_us_date(body.get("releaseEndDate"), "releaseEndDate")
        description = str(body.get("description") or "")
        release = self.state.add_release(project_id, name, description, start, end)
        return json_response(200, release_view(release))

    # -- preferences (docs/servers/zephyr.md §5.4, §5.6) -------------------------------------------

    def get_preference(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.6: ``{"name", "value": "<JSON string>", …}`` (a string, not an
        array)."""
        key = request.param("key")
        if key != STATUS_PREFERENCE:
            raise ApiError(404, f"Preference {key!r} not found.")  # [inference]
        value = json.dumps(status_list(self.config))
        return json_response(
            200,
            {
                "name": key,
                "value": value,
                "defaultValue": value,
                "isCustomizable": True,
                "editable": True,
                "accessLevel": 1,
            },
        )

    def get_system_preferences(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.4 [CLIENT]: ``v4/admin/preference/all/system?name=`` -> a
        list."""
        name = request.param("name")
        items = [
            {
                "name": ENVIRONMENT_PREFERENCE,
                "value": "true" if self.config.environment_required else "false",
            }
        ]
        return json_response(200, [i for i in items if not name or i["name"] == name])

    # -- repository tree (docs/servers/zephyr.md §5.2) ---------------------------------------------

    def get_tree_nodes(self, request: Request, user: User) -> Response:
        release_id = request.int_param("releaseid")
        if release_id is None:
            raise ApiError(400, "Query parameter releaseid is required.")
        self.release(release_id)
        kind = request.param("type")
        nodes = [
            folder_view(self.state, f)
            for f in self.state.top_folders(release_id)
            if not kind or f.type.lower() == kind.lower()
        ]
        if self.config.tree_results_envelope:
            return json_response(200, {"results": nodes})
        return json_response(200, nodes)

    def get_release_phases(self, request: Request, user: User, release_id: str) -> Response:
        self.release(int(release_id))
        nodes = self.state.top_folders(int(release_id))
        return json_response(200, [folder_view(self.state, f) for f in nodes])

    def get_tree_node(self, request: Request, user: User, folder_id: str) -> Response:
        return json_response(200, folder_view(self.state, self.folder(int(folder_id))))

    def get_tree_hierarchy(self, request: Request, user: User, folder_id: str) -> Response:
        """docs/servers/zephyr.md §5.2 [BP, CLIENT]: the ids under a node. [inference] the node's
        own id first."""
        self.folder(int(folder_id))
        return json_response(200, [node.id for node in self.state.descendants(int(folder_id))])

    def post_tree_node(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.2 [DOC]: ``?parentid=0`` and ``type: "Phase"`` for a top-level
        folder, ``?parentid={id}`` and ``type: "Module"`` below. [inference] ``parentid`` is
        required, the other type at either level is a 400, and sibling names may repeat
        (docs/servers/zephyr.md §6: no idempotency), so a client must look a folder up before
        creating it."""
        parent_id = request.int_param("parentid")
        if parent_id is None:
            raise ApiError(400, "Query parameter parentid is required (0 for a top-level node).")
        body = request.json_object()
        name = _name(body.get("name"), "name")
        kind = body.get("type")
        release = self.body_release(body.get("releaseId"))
        parent: Folder | None = None
        if parent_id == 0:
            if kind != "Phase":
                raise ApiError(400, f"A top-level node must have type 'Phase', got {kind!r}.")
        else:
            parent = self.state.folders.get(parent_id)
            if parent is None or parent.phase_id is not None:
                raise ApiError(400, f"Parent tree node {parent_id} does not exist.")
            if kind != "Module":
                raise ApiError(400, f"A sub-folder must have type 'Module', got {kind!r}.")
            if parent.release_id != release.id:
                raise ApiError(400, f"Tree node {parent_id} is not in release {release.id}.")
        folder = Folder(
            id=self.state.new_id(),
            name=name,
            description=str(body.get("description") or ""),
            type=str(kind),
            release_id=release.id,
            parent_id=parent.id if parent else None,
            created_on=self.state.now_ms(),
            created_by=user.id,
        )
        self.state.add_folder(folder)
        return json_response(200, folder_view(self.state, folder))

    # -- test cases (docs/servers/zephyr.md §5.3) --------------------------------------------------

    def get_tree_testcases(self, request: Request, user: User, folder_id: str) -> Response:
        """docs/servers/zephyr.md §5.3: the tcts placed directly in a folder,
        ``{"results": [tct…]}``."""
        self.folder(int(folder_id))
        tcts = [tct_view(t) for t in self.state.tcts_in(int(folder_id))]
        return json_response(200, _page(request, tcts))

    def get_planning_testcases(self, request: Request, user: User, folder_id: str) -> Response:
        """docs/servers/zephyr.md §5.3, §5.5: ``{"results": [{"tct": {…}}]}``, filtered by
        ``tcname``."""
        self.folder(int(folder_id))
        wanted = request.param("tcname")
        tcts = [
            {"tct": tct_view(t)}
            for t in self.state.tcts_in(int(folder_id))
            if not wanted or t.testcase.name == wanted
        ]
        return json_response(200, _page(request, tcts))

    def post_testcase_bulk(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.3 [CLIENT]: an array of
        ``{"tcrCatalogTreeId", "testcase": {…}}`` -> the created tcts. Validated whole before
        anything is created [inference]."""
        items = request.json_list(self.config.max_bulk)
        planned = [self._planned_testcase(index, item) for index, item in enumerate(items)]
        created = []
        for folder, fields in planned:
            logical = self.state.new_id()
            case = Testcase(
                id=self.state.new_id(),
                testcase_id=logical,
                created_on=self.state.now_ms(),
                **fields,
            )
            tct = self.state.add_tct(Tct(self.state.new_id(), folder.id, case))
            created.append(tct_view(tct))
        return json_response(200, created)

    def _planned_testcase(self, index: int, item: Any) -> tuple[Folder, dict[str, Any]]:
        where = f"item {index}"
        if not isinstance(item, dict) or not isinstance(item.get("testcase"), dict):
            raise ApiError(400, f"{where}: expected {{'tcrCatalogTreeId', 'testcase': {{…}}}}.")
        tree_id = as_int(item.get("tcrCatalogTreeId"), f"{where}: tcrCatalogTreeId")
        assert tree_id is not None
        folder = self.state.folders.get(tree_id)
        if folder is None or folder.phase_id is not None:
            raise ApiError(400, f"{where}: repository tree node {tree_id} does not exist.")
        case = item["testcase"]
        name = _name(case.get("name"), f"{where}: testcase.name")
        if len(name) > self.config.max_name_length:
            # docs/servers/zephyr.md §2 [CLIENT]: the vendor cuts names to 255. [inference] longer
            # is refused.
            raise ApiError(
                400,
                f"{where}: testcase.name is {len(name)} characters; at most "
                f"{self.config.max_name_length} are allowed.",
            )
        properties = case.get("customProperties")
        if not isinstance(properties, dict):
            # docs/servers/zephyr.md §5.3 [CLIENT]: "customProperties must be an object ({}), not
            # null"
            raise ApiError(400, f"{where}: testcase.customProperties must be an object ({{}}).")
        release_id = as_int(case.get("releaseId"), f"{where}: testcase.releaseId", required=False)
        if release_id is not None and release_id != folder.release_id:
            raise ApiError(400, f"{where}: tree node {tree_id} is not in release {release_id}.")
        release = self.state.releases[folder.release_id]
        return folder, {
            "name": name,
            "description": str(case.get("description") or ""),
            "tag": str(case.get("tag") or ""),
            "automated": bool(case.get("automated", False)),
            "script_name": str(case.get("scriptName") or ""),
            "project_id": release.project_id,
            "release_id": release.id,
            "custom_properties": dict(properties),
        }


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, f"{what} is required and must be a non-empty string.")
    return value
