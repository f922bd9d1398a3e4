"""The ``/api`` routing table and dispatch: 404 unknown path, 405 wrong method, 403 read-only.

The resources themselves live in catalog.py (placement), results.py (runs and nodes),
files.py (run and node attachments) and tasks.py (background tasks). Each handler cites the
reference section it follows (``docs/servers/et.md §N``); behaviour the reference leaves open is
marked ``[inference]``. Paths match case-insensitively (docs/servers/et.md §2.1 notes a sample
request with ``api/Project``) and ids are lower-cased GUIDs.
"""

from __future__ import annotations

import threading

from tmupload.emulation.routing import Handler, RouteTable, Wording

from .catalog import CatalogResources
from .config import EmulatorConfig
from .entities import User
from .files import AttachmentResources
from .protocol import Request, Response
from .results import ResultResources
from .state import State
from .tasks import TaskResources

__all__ = ["Api"]

#: docs/servers/et.md §2.3: a read-only user may only GET.
_WORDING = Wording(
    not_found="No resource at {path}.",
    not_allowed="The method {method} is not allowed on {path}.",
    forbidden="You do not have permission to {method} {path}: the user '{login}' may only view.",
)


class Api(CatalogResources, ResultResources, TaskResources, AttachmentResources):
    """The ``/api`` resources over one :class:`State`. Handlers run under ``lock``."""

    #: Enterprise Tester has no strict mode (nothing unconfirmed to be strict about).
    strict = False

    def __init__(self, config: EmulatorConfig, lock: threading.RLock) -> None:
        self.config = config
        self.lock = lock
        self.state = State(config, config.clock.time())
        self._routes = self._build_routes()

    def reset(self) -> None:
        with self.lock:
            self.state = State(self.config, self.now())

    def _build_routes(self) -> RouteTable:
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
            (
                rf"/api/automatedtestrun/{guid}/attachments",
                {"GET": self.get_run_attachments, "POST": self.post_run_attachments},
            ),
            (
                rf"/api/automatedtestrun/{guid}/attachment/{guid}",
                {"GET": self.get_run_attachment, "DELETE": self.delete_run_attachment},
            ),
            (
                rf"/api/automatedtestrun/{guid}/node/{guid}/attachments",
                {"GET": self.get_node_attachments, "POST": self.post_node_attachments},
            ),
            (
                rf"/api/automatedtestrun/{guid}/node/{guid}/attachment/{guid}",
                {"GET": self.get_node_attachment, "DELETE": self.delete_node_attachment},
            ),
            (rf"/api/attachment/{guid}/contents", {"GET": self.get_attachment_contents}),
            (r"/api/backgroundtasks", {"POST": self.post_task}),
            (rf"/api/backgroundtask/{guid}", {"GET": self.get_task}),
        ]
        return RouteTable(table, _WORDING)

    def dispatch(self, request: Request, user: User) -> Response:
        """Route an authenticated request: 404 unknown path, 405 wrong method, 403 read-only."""
        found = self._routes.find(request, request.path.rstrip("/").lower() or "/", user)
        if found.handler == self.post_assignment_runs:
            return found.handler(request, *found.groups)  # manages the lock itself
        with self.lock:
            self.state.tick(self.now())
            return found.handler(request, *found.groups)
