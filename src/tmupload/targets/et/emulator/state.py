"""The emulator's in-memory world: the entities (entities.py), their invariants and the
background tasks.

Nothing here knows about HTTP: validation and error answers live in routes.py. The caller
holds the emulator's lock around every method.

Background tasks complete *lazily*: no thread runs them. Each task has a due time, and
:meth:`State.tick`, called at the start of every request, completes the tasks that are due
(in due order, stamped with their due time, not the time of the request that noticed) and
flushes the completed ones whose ``task_flush_after`` has passed (docs/servers/et.md §7.2).
"""

from __future__ import annotations

import itertools

from .attachments import AttachmentStore
from .config import EmulatorConfig, TrackerLink
from .entities import (
    Assignment,
    AutomatedTest,
    Incident,
    Link,
    Package,
    Project,
    ResultNode,
    Run,
    Task,
    Ticket,
    User,
)
from .protocol import new_guid

__all__ = ["State"]


class State:
    """Every entity of the emulated server, built from an :class:`EmulatorConfig`."""

    def __init__(self, config: EmulatorConfig, now: float) -> None:
        self.config = config
        self.users: dict[str, User] = {}
        for login in config.users:
            self.users[login] = User(login, new_guid(), readonly=False)
        for login in config.readonly_users:
            self.users[login] = User(login, new_guid(), readonly=True)
        self.projects: dict[str, Project] = {}
        self.links: dict[str, Link] = {}
        self.incidents: dict[str, Incident] = {}
        self.packages: dict[str, Package] = {}
        self.tests: dict[str, AutomatedTest] = {}
        self.assignments: dict[str, Assignment] = {}
        self.runs: dict[str, Run] = {}
        self.tasks: dict[str, Task] = {}
        self.attachments = AttachmentStore()  # docs/servers/et.md §5.4 (attachments.py)
        self._runs_by_assignment: dict[str, list[Run]] = {}
        self._last_imported_at = 0.0
        self._order = itertools.count()
        ticket_numbers = itertools.count(10001)
        system_ids: dict[str, str] = {}
        for name in config.projects:
            project = Project(new_guid(), name, now, next(self._order))
            self.projects[project.id] = project
            for tracker in config.external_systems.get(name, []):
                self._add_link(project, tracker, system_ids, ticket_numbers)

    def _add_link(
        self,
        project: Project,
        tracker: TrackerLink,
        system_ids: dict[str, str],
        numbers: itertools.count[int],
    ) -> None:
        system_id = system_ids.setdefault(tracker.system_name, new_guid())
        link = Link(new_guid(), project.id, tracker.name, system_id, tracker.system_name)
        for key in tracker.keys:
            url = tracker.browse_url + key
            link.tickets_by_key[key] = Ticket(str(next(numbers)), key, link.id, url)
        self.links[link.id] = link

    # -- lookups -------------------------------------------------------------------------

    def project_by_name(self, name: str) -> Project | None:
        return next((p for p in self.projects.values() if p.name == name), None)

    def project_links(self, project_id: str) -> list[Link]:
        return [link for link in self.links.values() if link.project_id == project_id]

    def package_path(self, package: Package) -> str:
        parts = [package.name]
        parent_id = package.parent_id
        while parent_id is not None:
            parent = self.packages[parent_id]
            parts.append(parent.name)
            parent_id = parent.parent_id
        return self.config.package_path_separator.join(reversed(parts))

    def packages_of(self, kind: str) -> list[Package]:
        return [p for p in self.packages.values() if p.kind == kind]

    def runs_of(self, assignment_id: str) -> list[Run]:
        """The runs of an assignment, oldest first (``ImportedAt`` strictly increases)."""
        return self._runs_by_assignment.get(assignment_id, [])

    def assignment_status(self, assignment: Assignment) -> str:
        """docs/servers/et.md §4.3: "Not Run" (with a space) until a run exists, then the latest
        run's status."""
        runs = self.runs_of(assignment.id)
        return runs[-1].status if runs else "Not Run"

    def run_project(self, run: Run) -> Project:
        assignment = self.assignments[run.assignment_id]
        return self.projects[self.packages[assignment.package_id].project_id]

    def node_ticket_keys(self, node: ResultNode) -> list[tuple[str, str]]:
        """(ticket key, incident id) of every incident linked to a node."""
        return [(self.incidents[i].ticket_key, i) for i in node.incident_ids]

    # -- creation ------------------------------------------------------------------------

    def add_package(
        self, kind: str, name: str, project_id: str, parent_id: str | None, now: float
    ) -> Package:
        package = Package(new_guid(), kind, project_id, parent_id, name, next(self._order), now)
        self.packages[package.id] = package
        return package

    def add_test(
        self,
        package: Package,
        name: str,
        test_type: str,
        configuration: dict[str, object],
        user: User,
        now: float,
    ) -> AutomatedTest:
        test = AutomatedTest(
            new_guid(),
            package.id,
            package.project_id,
            name,
            test_type,
            configuration,
            now,
            user,
            next(self._order),
        )
        self.tests[test.id] = test
        return test

    def add_assignment(
        self, package: Package, test: AutomatedTest, user: User, now: float
    ) -> Assignment:
        assignment = Assignment(new_guid(), test.id, package.id, now, user, next(self._order))
        self.assignments[assignment.id] = assignment
        return assignment

    def link_incident(self, node: ResultNode, incident: Incident) -> None:
        if incident.id not in node.incident_ids:
            node.incident_ids.append(incident.id)

    def incident_for(self, ticket: Ticket, project_id: str, now: float) -> Incident:
        """The incident mirroring a ticket, created if none exists yet
        (docs/servers/et.md §7.3, §8.3)."""
        if ticket.incident_id is not None:
            return self.incidents[ticket.incident_id]
        incident = Incident(new_guid(), project_id, ticket.link_id, ticket.id, ticket.key, now)
        self.incidents[incident.id] = incident
        ticket.incident_id = incident.id
        return incident

    # -- background tasks ----------------------------------------------------------------

    def add_task(self, task: Task) -> Task:
        self.tasks[task.id] = task
        return task

    def pending_link(self, run_id: str, node_id: str, ticket: Ticket) -> bool:
        """Whether an unfinished link task already links this ticket to this node."""
        return any(
            t.kind == "link"
            and not t.complete
            and t.run_id == run_id
            and t.node_id == node_id
            and t.ticket is ticket
            for t in self.tasks.values()
        )

    def tick(self, now: float) -> None:
        """Complete the tasks that are due and flush the ones that finished long enough ago."""
        due = sorted(
            (t for t in self.tasks.values() if not t.complete and t.due_at <= now),
            key=lambda t: t.due_at,
        )
        for task in due:
            self._complete(task)
        flush_after = self.config.task_flush_after
        stale = [
            task.id
            for task in self.tasks.values()
            if task.finished_at is not None and task.finished_at + flush_after <= now
        ]
        for task_id in stale:
            del self.tasks[task_id]

    def _complete(self, task: Task) -> None:
        task.finished_at = task.due_at
        task.processed = task.total
        task.progress = 1.0
        task.message = task.done_message
        if task.error is not None:
            return
        if task.kind == "import":
            self._complete_import(task)
        elif task.kind in ("link", "ticketlink"):
            self._complete_link(task)

    def _complete_import(self, task: Task) -> None:
        parsed = task.parsed
        assert parsed is not None and task.assignment_id is not None
        # ImportedAt is strictly increasing between runs, so "newest first" is unambiguous.
        imported_at = max(task.due_at, self._last_imported_at + 1e-6)
        imported_at = round(imported_at, 6)
        if imported_at <= self._last_imported_at:
            imported_at = self._last_imported_at + 1e-6
        self._last_imported_at = imported_at
        run = Run(
            id=new_guid(),
            assignment_id=task.assignment_id,
            run_by=self.users[task.login],
            imported_at=imported_at,
            started_at=parsed.started_at,
            finished_at=parsed.finished_at,
            roots=parsed.roots,
            nodes=parsed.index,
            counts=parsed.counts,
        )
        self.runs[run.id] = run
        self._runs_by_assignment.setdefault(run.assignment_id, []).append(run)
        task.parsed = None  # the run owns the nodes now

    def _complete_link(self, task: Task) -> None:
        ticket = task.ticket
        assert ticket is not None
        link = self.links[ticket.link_id]
        incident = self.incident_for(ticket, link.project_id, task.due_at)
        task.incident_id = incident.id
        if task.kind == "link":
            assert task.run_id is not None and task.node_id is not None
            run = self.runs.get(task.run_id)
            node = run.nodes.get(task.node_id) if run is not None else None
            if run is None or node is None:
                task.error = "The run or result node no longer exists."
                return
            # [inference] linked meanwhile by another path: nothing to add, not an error.
            self.link_incident(node, incident)
