"""The REST routing table and dispatch: 404 unknown path, 405 wrong method, 403 read-only.

Paths are matched below ``/flex/services/rest/{latest|v3}`` (docs/servers/zephyr.md §2: the
documentation uses ``latest``, the vendor plugin ``v3``, for the same operations); ``v4`` serves
only the system preferences (docs/servers/zephyr.md §5.4). A trailing slash is ignored (the
reference writes both ``/cycle`` and ``/release/``). The attachment upload lives outside the REST
prefix (docs/servers/zephyr.md §5.7).
"""

from __future__ import annotations

import re

from tmupload.emulation.routing import READS, Handler, Route, RouteTable, Wording

from .attachments import AttachmentResources
from .catalog import CatalogResources
from .config import EmulatorConfig
from .execution import ExecutionResources
from .planning import PlanningResources
from .protocol import Request, Response
from .state import State, User

__all__ = ["UPLOAD_PATH", "Api"]

#: docs/servers/zephyr.md §5.7: step 1 of an attachment, not under ``/flex/services/rest``.
UPLOAD_PATH = "/flex/upload/document/genericattachment"

_WORDING = Wording(
    not_found="No resource at {path}.",
    not_allowed="{method} is not allowed on {path}.",
    forbidden="User '{login}' does not have permission to {method} {path}.",
)


class Api(CatalogResources, PlanningResources, ExecutionResources, AttachmentResources):
    """The REST resources over one :class:`State`. The caller holds the lock."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.state = State(config)
        self.strict = config.strict
        self._routes = self._build_routes()
        self._v4_routes = RouteTable(
            [(r"/admin/preference/all/system", {"GET": self.get_system_preferences})], _WORDING
        )
        self._upload_routes = RouteTable(
            [(re.escape(UPLOAD_PATH), {"POST": self.post_upload})], _WORDING
        )

    def reset(self) -> None:
        self.state = State(self.config)

    def _build_routes(self) -> RouteTable:
        n = r"(\d+)"
        table: list[tuple[str, dict[str, Handler]] | Route] = [
            (r"/user/current", {"GET": self.get_current_user}),
            # [inference] a read-only user may still end its own session
            Route(re.compile(r"/user/logout"), {"DELETE": self.delete_logout}, READS | {"DELETE"}),
            (r"/project", {"GET": self.get_projects}),
            (rf"/project/{n}", {"GET": self.get_project}),
            (rf"/project/user/{n}", {"GET": self.get_user_projects}),
            (rf"/project/project/{n}", {"GET": self.get_user_project_ids}),
            (r"/release", {"POST": self.post_release}),
            (rf"/release/{n}", {"GET": self.get_release}),
            (rf"/release/project/{n}", {"GET": self.get_project_releases}),
            (rf"/release/paged/project/{n}", {"GET": self.get_paged_releases}),
            (r"/admin/preference", {"GET": self.get_preference}),
            (r"/testcasetree", {"GET": self.get_tree_nodes, "POST": self.post_tree_node}),
            (rf"/testcasetree/{n}", {"GET": self.get_tree_node}),
            (rf"/testcasetree/phases/{n}", {"GET": self.get_release_phases}),
            (rf"/testcasetree/hierarchy/{n}", {"GET": self.get_tree_hierarchy}),
            (rf"/testcase/tree/{n}", {"GET": self.get_tree_testcases}),
            (rf"/testcase/planning/{n}", {"GET": self.get_planning_testcases}),
            (r"/testcase/bulk", {"POST": self.post_testcase_bulk}),
            (r"/cycle", {"POST": self.post_cycle}),
            (rf"/cycle/{n}", {"GET": self.get_cycle}),
            (rf"/cycle/release/{n}", {"GET": self.get_release_cycles}),
            (rf"/cycle/cycleName/{n}", {"GET": self.get_cycles_by_name}),
            (rf"/cycle/{n}/phase", {"POST": self.post_phase}),
            (rf"/assignmenttree/{n}/assign", {"POST": self.post_assign_phase}),
            (rf"/assignmenttree/{n}/assign/bytree/{n}", {"POST": self.post_assign_bytree}),
            (r"/execution", {"GET": self.get_executions}),
            (r"/execution/ids", {"GET": self.get_execution_ids}),
            (r"/execution/modify", {"POST": self.post_execution_modify}),
            (r"/execution/bulk", {"PUT": self.put_execution_bulk}),
            (r"/execution/bulk/execute", {"PUT": self.put_execution_bulk_execute}),
            (
                rf"/execution/{n}",
                {
                    "GET": self.get_execution,
                    "PUT": self.put_execution,
                    "POST": self.put_execution,
                },
            ),
            (r"/attachment", {"GET": self.get_attachments}),
            (r"/attachment/list", {"POST": self.post_attachment_list}),
            (r"/defectmapping", {"POST": self.post_defect_mapping}),
        ]
        return RouteTable(table, _WORDING)

    def dispatch(self, request: Request, user: User, version: str) -> Response:
        """Route an authenticated request (``version`` is ``upload`` for the upload path)."""
        routes = {"upload": self._upload_routes, "v4": self._v4_routes}.get(version, self._routes)
        found = routes.find(request, request.path.rstrip("/") or "/", user)
        return found.handler(request, user, *found.groups)
