"""The ``/api`` routing table and dispatch: 404 unknown path, 405 wrong method, 403 read-only.

The resources live in resources.py (projects, releases, cycles), execution.py (submission,
jobs, runs, logs), links.py (defect links) and search.py. Paths match case-sensitively, as
Spring does; [inference] a trailing slash is ignored.
"""

from __future__ import annotations

import re
import threading

from tmupload.emulation.routing import Handler, Route, RouteTable, Wording

from .automation import process_due_jobs
from .config import EmulatorConfig
from .execution import ExecutionResources
from .links import LinkResources
from .protocol import Request, Response
from .resources import ProjectResources
from .search import SearchResources
from .state import State, User

__all__ = ["FORBIDDEN", "Api"]

#: docs/servers/qtest.md §7.2: the spec's 403 text.
FORBIDDEN = "User does not have enough permission"

_WORDING = Wording(
    not_found="No API resource at {path}.",
    not_allowed="Request method '{method}' not supported on {path}.",
    forbidden=FORBIDDEN + ": '{login}' may only read.",
)


class Api(ProjectResources, ExecutionResources, LinkResources, SearchResources):
    """The ``/api`` resources over one :class:`State`. Handlers run under ``lock``."""

    def __init__(self, config: EmulatorConfig, lock: threading.RLock) -> None:
        self.config = config
        self.lock = lock
        self.now = config.clock.time()
        self.state = State(config, self.now)
        self.strict = config.strict
        self._routes = self._build_routes()

    def reset(self) -> None:
        with self.lock:
            self.now = self.config.clock.time()
            self.state = State(self.config, self.now)

    def tick(self, now: float) -> None:
        """Land the queue jobs that are due (automation.py). Call under the lock."""
        self.now = now
        process_due_jobs(self.state, now)

    def _build_routes(self) -> RouteTable:
        p = r"/api/v3/projects/([^/]+)"
        i = r"([^/]+)"
        table: list[tuple[str, dict[str, Handler]]] = [
            (r"/api/v3/projects", {"GET": self.get_projects}),
            # docs/servers/qtest.md §5: no project segment; listed before projects/{id}
            (rf"/api/v3/projects/queue-processing/{i}", {"GET": self.get_job}),
            (p, {"GET": self.get_project}),
            (rf"{p}/releases", {"GET": self.get_releases}),
            (rf"{p}/releases/{i}", {"GET": self.get_release}),
            (rf"{p}/test-cycles", {"GET": self.get_cycles, "POST": self.post_cycles}),
            (rf"{p}/test-cycles/{i}", {"GET": self.get_cycle}),
            (rf"{p}/test-cases/{i}", {"GET": self.get_test_case}),
            (rf"{p}/auto-test-logs", {"POST": self.post_auto_test_logs}),
            (rf"{p}/test-runs", {"GET": self.get_runs}),
            (rf"{p}/test-runs/execution-statuses", {"GET": self.get_execution_statuses}),
            (rf"{p}/test-runs/{i}", {"GET": self.get_run}),
            (rf"{p}/test-runs/{i}/test-logs", {"GET": self.get_logs}),
            (rf"{p}/test-runs/{i}/test-logs/last-run", {"GET": self.get_last_log}),
            (rf"{p}/test-runs/{i}/test-logs/{i}", {"GET": self.get_log}),
            (
                rf"{p}/test-logs/{i}/defects",
                {"POST": self.post_log_defects, "DELETE": self.delete_log_defects},
            ),
            (
                rf"{p}/test-logs/{i}/link",
                {"POST": self.post_log_link, "DELETE": self.delete_log_link},
            ),
            (rf"{p}/test-logs/{i}/attachments", {"GET": self.get_log_attachments}),
            (rf"{p}/test-logs/{i}/attachments/{i}", {"GET": self.get_log_attachment}),
            (rf"{p}/linked-artifacts", {"GET": self.get_linked_artifacts}),
        ]
        # docs/servers/qtest.md §8: search is a POST that only reads
        search = Route(
            re.compile(rf"{p}/search"), {"POST": self.post_search}, frozenset({"GET", "POST"})
        )
        return RouteTable([*table, search], _WORDING)

    def dispatch(self, request: Request, user: User) -> Response:
        """Route an authenticated request (the caller holds the lock and has ticked)."""
        found = self._routes.find(request, request.path.rstrip("/") or "/", user)
        return found.handler(request, *found.groups)
