"""The emulator's in-memory qTest site: entities, id and PID allocation, tree lookups.

Nothing here knows about HTTP. The caller holds the emulator's lock around every method.
Test cases, runs, cycles and modules are :class:`~.index.IndexedRecords`: plain dicts by id to
their readers, with indexes (by Automation Content, by cycle and content, by parent and name)
that every insert keeps in step, so a lookup costs the same however many records there are.
Object ids are int64 (docs/servers/qtest.md §2); one counter serves every object type except
projects, so an id of one kind is never also the id of another kind (a client that sends a run id
where a log id belongs gets a 404, not someone else's object). PIDs (``CL-3``, ``TR-2``,
docs/servers/qtest.md §2) count per project and prefix.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .config import EmulatorConfig
from .index import IndexedRecords

__all__ = [
    "TERMINAL_STATES",
    "Attachment",
    "Cycle",
    "Defect",
    "Job",
    "Module",
    "Project",
    "Release",
    "State",
    "StepLog",
    "TestCaseItem",
    "TestLogItem",
    "TestRunItem",
    "Token",
    "User",
]

#: docs/servers/qtest.md §5: the two final states of a queue job.
TERMINAL_STATES = frozenset({"SUCCESS", "FAILED"})
#: [inference] the first project id is the API list's "Sample Project ID".
FIRST_PROJECT_ID = 108781
FIRST_OBJECT_ID = 1001


@dataclass(slots=True)
class User:
    login: str
    readonly: bool


@dataclass(slots=True)
class Token:
    value: str
    login: str
    # "static" (docs/servers/qtest.md §3.1), "access" or "refresh" (docs/servers/qtest.md §3.2)
    kind: str
    expires_at: float | None  # None: never


@dataclass(slots=True)
class Project:
    id: int
    name: str
    created_at: float


@dataclass(slots=True)
class Release:
    id: int
    pid: str
    name: str
    project_id: int
    created_at: float


@dataclass(slots=True)
class Cycle:
    id: int
    pid: str
    name: str
    description: str
    project_id: int
    parent_id: int  # 0 under the root
    parent_type: str  # "root", "release" or "test-cycle" (docs/servers/qtest.md §8)
    target_release_id: int | None
    created_at: float


@dataclass(slots=True)
class Module:
    id: int
    pid: str
    name: str
    project_id: int
    parent_id: int  # 0 under the root


@dataclass(slots=True)
class TestCaseItem:
    id: int
    pid: str
    name: str
    automation_content: str
    project_id: int
    module_id: int
    version_id: int
    created_at: float


@dataclass(slots=True)
class Attachment:
    id: int
    name: str
    content_type: str
    data: bytes
    sha256: str
    log_id: int
    created_at: float


@dataclass(slots=True)
class StepLog:
    order: int
    description: str
    expected_result: str
    actual_result: str
    status: str  # execution status name


@dataclass(slots=True)
class Defect:
    id: int
    key: str
    project_id: int


@dataclass(slots=True)
class TestLogItem:
    id: int
    run_id: int
    status: str  # execution status name (docs/servers/qtest.md §6)
    automation_status: str  # as submitted
    exe_start: float
    exe_end: float
    note: str
    submitted_by: str
    created_at: float
    build_number: str = ""
    build_url: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    steps: list[StepLog] = field(default_factory=list)
    defect_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class TestRunItem:
    id: int
    pid: str
    name: str
    project_id: int
    cycle_id: int
    test_case_id: int
    automation_content: str
    created_at: float
    log_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Job:
    id: int
    project_id: int
    payload: Any
    login: str
    created_at: float
    due_at: float
    state: str = "IN_WAITING"
    content: str | None = None


def _cycle_parent(cycle: Cycle) -> tuple[int, str, int]:
    """The key :meth:`State.child_cycles` looks cycles up by (the root has one parent)."""
    return (
        cycle.project_id,
        cycle.parent_type,
        0 if cycle.parent_type == "root" else cycle.parent_id,
    )


class State:
    """Everything the emulated site holds."""

    def __init__(self, config: EmulatorConfig, now: float) -> None:
        self.config = config
        self._ids = itertools.count(FIRST_OBJECT_ID)
        self._pids: dict[tuple[int, str], itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self.users: dict[str, User] = {login: User(login, False) for login in config.users}
        self.users.update({login: User(login, True) for login in config.readonly_users})
        self.tokens: dict[str, Token] = {
            value: Token(value, login, "static", None) for value, login in config.tokens.items()
        }
        self.projects: dict[int, Project] = {}
        self.releases: dict[int, Release] = {}
        # The key fields of these indexes never change once a record is created.
        self.cycles: IndexedRecords[Cycle] = IndexedRecords(
            children=_cycle_parent, named=lambda c: (c.parent_type, c.parent_id, c.name)
        )
        self.modules: IndexedRecords[Module] = IndexedRecords(
            named=lambda m: (m.project_id, m.parent_id, m.name)
        )
        self.test_cases: IndexedRecords[TestCaseItem] = IndexedRecords(
            content=lambda t: (t.project_id, t.automation_content)
        )
        self.runs: IndexedRecords[TestRunItem] = IndexedRecords(
            content=lambda r: (r.cycle_id, r.automation_content)
        )
        self.logs: dict[int, TestLogItem] = {}
        self.attachments: dict[int, Attachment] = {}
        self.defects: dict[int, Defect] = {}
        self.jobs: dict[int, Job] = {}
        for offset, name in enumerate(config.projects):
            project = Project(FIRST_PROJECT_ID + offset, name, now)
            self.projects[project.id] = project
            for release_name in config.releases.get(name, []):
                self.add_release(project.id, release_name, now)
            for key in config.defects.get(name, []):
                defect = Defect(self.new_id(), key, project.id)
                self.defects[defect.id] = defect

    # -- ids -----------------------------------------------------------------------------

    def new_id(self) -> int:
        return next(self._ids)

    def new_pid(self, project_id: int, prefix: str) -> str:
        return f"{prefix}-{next(self._pids[(project_id, prefix)])}"

    # -- creation ------------------------------------------------------------------------

    def add_release(self, project_id: int, name: str, now: float) -> Release:
        release = Release(self.new_id(), self.new_pid(project_id, "RL"), name, project_id, now)
        self.releases[release.id] = release
        return release

    def add_cycle(
        self,
        project_id: int,
        name: str,
        parent_type: str,
        parent_id: int,
        now: float,
        description: str = "",
        target_release_id: int | None = None,
    ) -> Cycle:
        cycle = Cycle(
            id=self.new_id(),
            pid=self.new_pid(project_id, "CL"),
            name=name,
            description=description,
            project_id=project_id,
            parent_id=parent_id,
            parent_type=parent_type,
            target_release_id=target_release_id,
            created_at=now,
        )
        self.cycles[cycle.id] = cycle
        return cycle

    def child_cycle(self, parent: Cycle, name: str, now: float) -> Cycle:
        """The sub-cycle ``name`` of ``parent``, created if missing (docs/servers/qtest.md §4.1:
        reused when one with the same name and location exists)."""
        found = self.cycles.first("named", ("test-cycle", parent.id, name))
        if found is not None:
            return found
        return self.add_cycle(parent.project_id, name, "test-cycle", parent.id, now)

    def child_module(self, project_id: int, parent_id: int, name: str) -> Module:
        """The module ``name`` under ``parent_id`` (0 = root), created if missing
        (docs/servers/qtest.md §4.1)."""
        found = self.modules.first("named", (project_id, parent_id, name))
        if found is not None:
            return found
        module = Module(self.new_id(), self.new_pid(project_id, "MD"), name, project_id, parent_id)
        self.modules[module.id] = module
        return module

    # -- lookups -------------------------------------------------------------------------

    def project_by_name(self, name: str) -> Project | None:
        return next((p for p in self.projects.values() if p.name == name), None)

    def find_by_ref(self, items: dict[int, Any], project_id: int, ref: Any) -> Any:
        """An object of ``items`` in the project by id or PID (docs/servers/qtest.md §2), or None.

        [inference] a PID matches case-insensitively; an id may be sent as a number or text.
        """
        text = str(ref).strip() if isinstance(ref, (str, int)) else ""
        if text.isdigit():
            found = items.get(int(text))
            return found if found is not None and found.project_id == project_id else None
        for item in items.values():
            if item.project_id == project_id and str(item.pid).upper() == text.upper():
                return item
        return None

    def cycle_chain(self, cycle: Cycle) -> list[Cycle]:
        """The cycles from the topmost one down to ``cycle``."""
        chain = [cycle]
        while chain[-1].parent_type == "test-cycle" and chain[-1].parent_id in self.cycles:
            chain.append(self.cycles[chain[-1].parent_id])
        return chain[::-1]

    def cycle_path(self, cycle: Cycle) -> str:
        return "/".join(c.name for c in self.cycle_chain(cycle))

    def module_path(self, module_id: int) -> str:
        names = []
        while module_id in self.modules:
            module = self.modules[module_id]
            names.append(module.name)
            module_id = module.parent_id
        return "/".join(reversed(names))

    def child_cycles(self, project_id: int, parent_type: str, parent_id: int) -> list[Cycle]:
        """The cycles right under the root (``parent_id`` ignored), a release or a cycle."""
        key = (project_id, parent_type, 0 if parent_type == "root" else parent_id)
        return self.cycles.all("children", key)

    def descendant_cycle_ids(self, cycle: Cycle) -> set[int]:
        found, stack = {cycle.id}, [cycle.id]
        while stack:
            current = stack.pop()
            for child in self.child_cycles(cycle.project_id, "test-cycle", current):
                if child.id not in found:
                    found.add(child.id)
                    stack.append(child.id)
        return found

    def test_case_by_content(self, project_id: int, content: str) -> TestCaseItem | None:
        """docs/servers/qtest.md §4.1: the test case is matched by Automation Content alone."""
        return self.test_cases.first("content", (project_id, content))

    def run_in_cycle(self, cycle_id: int, content: str) -> TestRunItem | None:
        """docs/servers/qtest.md §4.1: a run is reused only with the same Automation Content *and*
        location."""
        return self.runs.first("content", (cycle_id, content))

    def latest_log(self, run: TestRunItem) -> TestLogItem | None:
        """[inference] "latest" is the log submitted last, whatever its execution dates."""
        return self.logs[run.log_ids[-1]] if run.log_ids else None

    def run_status(self, run: TestRunItem) -> str:
        log = self.latest_log(run)
        return log.status if log is not None else "Unexecuted"

    def defect_by_key(self, project_id: int, key: str) -> Defect | None:
        """[inference] defect keys match case-insensitively, like Jira keys."""
        wanted = key.strip().upper()
        for defect in self.defects.values():
            if defect.project_id == project_id and defect.key.upper() == wanted:
                return defect
        return None

    def job_state(self, job: Job, now: float) -> str:
        """docs/servers/qtest.md §5: IN_WAITING for the first half of ``job_delay``, then
        IN_PROCESSING, then whatever processing decided (set by ``automation.process_due_jobs``)."""
        if job.state in TERMINAL_STATES:
            return job.state
        half = (job.due_at - job.created_at) / 2
        return "IN_WAITING" if now < job.created_at + half else "IN_PROCESSING"
