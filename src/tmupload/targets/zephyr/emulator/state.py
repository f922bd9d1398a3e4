"""The emulator's in-memory world: entities, numeric ids and the lookups between them.

Nothing here knows about HTTP: validation and answers live in the resource modules. The caller
holds the emulator's lock around every method.

Ids come from one counter shared by every kind of entity, so no two entities share an id.
[inference] A real server numbers each table on its own; disjoint ids make a client that sends
one kind of id where another is expected (a tct id for a testcase version id, an execution id
for a tct id) fail loudly instead of touching the wrong record.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from .config import EmulatorConfig

__all__ = [
    "Attachment",
    "Cycle",
    "Execution",
    "Folder",
    "Phase",
    "Project",
    "Release",
    "State",
    "Tct",
    "Testcase",
    "Upload",
    "User",
]


@dataclass(slots=True)
class User:
    id: int
    login: str
    readonly: bool


@dataclass(slots=True)
class Project:
    id: int
    name: str
    created_on: int


@dataclass(slots=True)
class Release:
    id: int
    project_id: int
    name: str
    description: str
    start_date: int | None
    end_date: int | None
    created_on: int


@dataclass(slots=True)
class Folder:
    """A tree node (``tcrCatalogTree``): a repository folder, or a free-form phase's tree."""

    id: int
    name: str
    description: str
    type: str  # "Phase" or "Module" (docs/servers/zephyr.md §5.2)
    release_id: int
    parent_id: int | None
    created_on: int
    created_by: int
    #: Set on the nodes of a free-form cycle phase's own tree; None in the repository.
    phase_id: int | None = None


@dataclass(slots=True)
class Testcase:
    """A test case version (``tct.testcase``): ``id`` is the version id
    (docs/servers/zephyr.md §4)."""

    id: int
    testcase_id: int  # the logical id
    name: str
    description: str
    tag: str
    automated: bool
    script_name: str
    project_id: int
    release_id: int
    custom_properties: dict[str, object]
    created_on: int


@dataclass(slots=True)
class Tct:
    """A placement of a test case in a tree node (``TCRCatalogTreeTestcase``,
    docs/servers/zephyr.md §4)."""

    id: int
    tree_id: int
    testcase: Testcase
    #: For a copy in a free-form phase's tree: the repository tct it came from.
    source_tct_id: int | None = None


@dataclass(slots=True)
class Cycle:
    id: int
    name: str
    release_id: int
    build: str
    environment: str
    status: int
    start_date: int | None
    end_date: int | None
    created_on: int
    phase_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class Phase:
    """A cycle phase (docs/servers/zephyr.md §5.4); ``tree_id`` is its own tree or, not free-form, a
    folder."""

    id: int
    cycle_id: int
    name: str
    release_id: int
    free_form: bool
    tree_id: int
    start_date: int | None
    end_date: int | None
    created_on: int
    #: Free text a client may send with the phase (the vendor's phase objects carry one).
    description: str = ""


@dataclass(slots=True)
class Execution:
    """A release test schedule (RTS, "execution", docs/servers/zephyr.md §4)."""

    id: int
    phase_id: int
    tct_id: int
    tester_id: int
    status_id: int
    assigned_on: int
    notes: str = ""
    actual_time: int | None = None
    executed_on: int | None = None
    executed_by: int | None = None
    changed_on: int | None = None
    attachment_ids: list[int] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Upload:
    """Bytes from ``/flex/upload/document/genericattachment``, waiting to be registered."""

    temp_path: str
    file_name: str
    field_name: str
    content_type: str
    data: bytes
    registered: bool = False


@dataclass(slots=True)
class Attachment:
    id: int
    item_id: int
    item_type: str
    name: str
    content_type: str
    size: int
    sha256: str
    data: bytes
    created_by: int
    created_on: int


class State:
    """Every entity by id, plus the sessions of cookie authentication."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._ids = itertools.count(1)
        self.users: dict[str, User] = {}
        self.projects: dict[int, Project] = {}
        self.releases: dict[int, Release] = {}
        self.folders: dict[int, Folder] = {}
        self.tcts: dict[int, Tct] = {}
        self.cycles: dict[int, Cycle] = {}
        self.phases: dict[int, Phase] = {}
        self.executions: dict[int, Execution] = {}
        self.uploads: dict[str, Upload] = {}
        self.attachments: dict[int, Attachment] = {}
        # indexes kept by add_folder / add_tct / add_execution
        self._child_folders: dict[int | None, list[Folder]] = {}
        self._tree_tcts: dict[int, list[Tct]] = {}
        self._phase_executions: dict[int, dict[int, Execution]] = {}
        #: ``token`` cookie value -> (login, expiry as epoch seconds) (docs/servers/zephyr.md §3).
        self.sessions: dict[str, tuple[str, float]] = {}
        created = self.now_ms()
        for login in config.users:
            self.users[login] = User(self.new_id(), login, readonly=False)
        for login in config.readonly_users:
            self.users[login] = User(self.new_id(), login, readonly=True)
        for name, releases in config.projects.items():
            project = Project(self.new_id(), name, created)
            self.projects[project.id] = project
            for release_name in releases:
                self.add_release(project.id, release_name, "", None, None)

    def now_ms(self) -> int:
        """The emulator's time (``EmulatorConfig.clock``) in epoch milliseconds."""
        return int(self.config.clock.time() * 1000)

    def new_id(self) -> int:
        return next(self._ids)

    def user_by_id(self, user_id: int) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def add_release(
        self, project_id: int, name: str, description: str, start: int | None, end: int | None
    ) -> Release:
        release = Release(self.new_id(), project_id, name, description, start, end, self.now_ms())
        self.releases[release.id] = release
        return release

    # -- trees ---------------------------------------------------------------------------

    def add_folder(self, folder: Folder) -> Folder:
        self.folders[folder.id] = folder
        self._child_folders.setdefault(folder.parent_id, []).append(folder)
        return folder

    def add_tct(self, tct: Tct) -> Tct:
        self.tcts[tct.id] = tct
        self._tree_tcts.setdefault(tct.tree_id, []).append(tct)
        return tct

    def top_folders(self, release_id: int) -> list[Folder]:
        """The repository's top-level folders of a release (never a phase's own tree)."""
        return [
            f
            for f in self._child_folders.get(None, [])
            if f.release_id == release_id and f.phase_id is None
        ]

    def child_folders(self, folder_id: int) -> list[Folder]:
        return list(self._child_folders.get(folder_id, []))

    def descendants(self, folder_id: int) -> Iterator[Folder]:
        """The node itself, then every node below it, depth first."""
        stack = [self.folders[folder_id]]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(self._child_folders.get(node.id, [])))

    def folder_path(self, folder_id: int) -> str:
        """Names from the tree's root down to the folder, joined by ``/``."""
        names: list[str] = []
        current: int | None = folder_id
        while current is not None:
            folder = self.folders[current]
            names.append(folder.name)
            current = folder.parent_id
        return "/".join(reversed(names))

    def tcts_in(self, folder_id: int) -> list[Tct]:
        return list(self._tree_tcts.get(folder_id, []))

    def repository_tct(self, tct: Tct) -> Tct:
        """The repository placement behind a tct (itself unless it is a phase copy)."""
        if tct.source_tct_id is not None:
            return self.tcts[tct.source_tct_id]
        return tct

    # -- phases and executions -----------------------------------------------------------

    def phase_tcts(self, phase: Phase) -> list[Tct]:
        """Every tct in the phase's tree (for a folder-built phase: the folder's hierarchy)."""
        return [t for node in self.descendants(phase.tree_id) for t in self.tcts_in(node.id)]

    def executions_of(self, phase_id: int) -> list[Execution]:
        """The phase's executions, oldest (lowest id) first."""
        return sorted(self._phase_executions.get(phase_id, {}).values(), key=lambda e: e.id)

    def execution_for(self, phase_id: int, tct_id: int) -> Execution | None:
        return self._phase_executions.get(phase_id, {}).get(tct_id)

    def add_execution(self, phase_id: int, tct_id: int, tester_id: int) -> Execution:
        execution = Execution(
            self.new_id(),
            phase_id,
            tct_id,
            tester_id,
            self.config.not_executed_status_id,
            self.now_ms(),
        )
        self.executions[execution.id] = execution
        self._phase_executions.setdefault(phase_id, {})[tct_id] = execution
        return execution
