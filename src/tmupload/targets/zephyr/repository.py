"""The repository: folders and test cases, found by exact name or created
(docs/servers/zephyr.md §5.2, §5.3).

Creating a folder or a test case is not idempotent (docs/servers/zephyr.md §6), and sibling names
may repeat, so: each is looked up by exact name before it is created; when an answer is lost (a
broken connection, a 5xx after the POST left) the parent is read again and only what is still
missing is sent again; among same-named siblings the oldest (lowest id) is the one used. With a
journal, the first creation of each kind is declared before it is sent (one intent for the
folders, one for the test cases: a resume looks everything up by name anyway). Without one (the
session's stream, while the tests run) nothing else changes: whatever a crash leaves behind is
found by name by the next attempt, never created twice.

A folder created here starts empty, so it is not listed (for 100 new folders, 100 requests that
could only answer "nothing"); one found again after a lost answer is listed like any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tmupload.errors import ServerError, ServerProtocolError
from tmupload.targets.base import Journal, Progress
from tmupload.targets.batching import in_pool, send_halving
from tmupload.targets.toolkit.steps import FOLDERS, TESTCASES
from tmupload.targets.zephyr.api import BATCH, ZephyrApi, answer_lost, as_id
from tmupload.targets.zephyr.payload import testcase_item

__all__ = ["Cases", "Folders", "TctRef", "oldest_named"]

Path = tuple[str, ...]
_DESCRIPTION = "Created by tmupload for automated test results"


def oldest_named(items: Iterable[dict[str, Any]], name: str) -> dict[str, Any] | None:
    """The item named ``name`` with the lowest id: names may repeat, the oldest is the one."""
    same = [i for i in items if str(i.get("name", "")) == name and as_id(i.get("id")) is not None]
    return min(same, key=lambda i: as_id(i["id"]) or 0) if same else None


@dataclass
class Folders:
    """Repository folders by path (``("Automation", "tests", "test_a.py")``).

    ``ids`` may be seeded with folders found earlier (by the session's stream): they are used
    as they are. ``fresh`` holds the folders created here (known to be empty)."""

    api: ZephyrApi
    release_id: int
    journal: Journal | None
    create: bool
    ids: dict[Path, int | None] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    fresh: set[int] = field(default_factory=set)
    _children: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    _declared: bool = False

    def _list(self, parent: int, fresh: bool = False) -> list[dict[str, Any]]:
        if fresh or parent not in self._children:
            if parent == 0:  # docs/servers/zephyr.md §5.2: the release's top-level (Phase) folders
                self._children[parent] = self.api.top_folders(self.release_id)
            else:  # docs/servers/zephyr.md §5.2: one node with its children in ``categories``
                node = self.api.folder(parent)
                found = node.get("categories")
                self._children[parent] = [c for c in found or [] if isinstance(c, dict)]
        return self._children[parent]

    def resolve(self, path: Path) -> int | None:
        """The folder's id; None in a dry run when it does not exist yet."""
        if path in self.ids:
            return self.ids[path]
        parent = 0 if len(path) == 1 else self.resolve(path[:-1])
        # An entry journaled by an earlier version recorded each folder as a step of its own.
        done = self.journal.done("folder:" + "/".join(path)) if self.journal is not None else None
        if done is not None:
            self.ids[path] = int(done["id"])
            return self.ids[path]
        if parent is not None and parent in self.fresh:
            found = None  # a folder created here is empty: no need to list it
        else:
            found = None if parent is None else oldest_named(self._list(parent), path[-1])
        if found is None:
            self.created.append("/".join(path))
            if parent is None or not self.create:
                self.ids[path] = None
                return None
            found = self._create(parent, path)
        folder_id = as_id(found.get("id"))
        if folder_id is None:
            raise ServerProtocolError(f"the repository folder {'/'.join(path)!r} has no id")
        self.ids[path] = folder_id
        return folder_id

    def _create(self, parent: int, path: Path) -> dict[str, Any]:
        if self.journal is not None and not self._declared:
            self.journal.declare(FOLDERS, {"at_epoch": time.time()})
            self._declared = True
        try:
            created = self.api.create_folder(self.release_id, parent, path[-1], _DESCRIPTION)
        except ServerError as exc:
            if not answer_lost(exc):
                raise
            # The folder may exist now: look before anyone creates it again.
            again = oldest_named(self._list(parent, fresh=True), path[-1])
            if again is None:
                raise
            return again  # found, not known to be empty: its test cases are listed
        self._children.setdefault(parent, []).append(created)
        if as_id(created.get("id")) is not None:
            self.fresh.add(int(as_id(created["id"]) or 0))
        return created


@dataclass(frozen=True, slots=True)
class TctRef:
    """A test case placed in a repository folder (docs/servers/zephyr.md §4: tct id vs version id);
    one a case, so slotted."""

    tct: int
    version: int

    def as_data(self) -> list[int]:
        return [self.tct, self.version]


def _tct(item: dict[str, Any]) -> tuple[str, TctRef] | None:
    case = item.get("testcase")
    tct_id = as_id(item.get("id"))
    if not isinstance(case, dict) or tct_id is None or as_id(case.get("id")) is None:
        return None
    return str(case.get("name", "")), TctRef(tct_id, int(as_id(case["id"]) or 0))


@dataclass
class Cases:
    """Test cases by (folder, name): listed per folder, the missing created in bulk.

    ``known`` holds, per folder, every test case it is known to hold (listed, or created in a
    folder known to be empty); it may be seeded with what the session's stream found."""

    api: ZephyrApi
    project_id: int
    release_id: int
    journal: Journal | None
    progress: Progress
    known: dict[int, dict[str, TctRef]] = field(default_factory=dict)
    concurrency: int = 1
    _declared: bool = False

    def _read(self, folder: int) -> dict[str, TctRef]:
        found: dict[str, TctRef] = {}
        for item in self.api.cases_in(folder):
            parsed = _tct(item)
            if parsed is not None:
                name, ref = parsed
                if name not in found or ref.tct < found[name].tct:  # the oldest wins
                    found[name] = ref
        self.known[folder] = found
        return found

    def list_folders(self, folders: Iterable[int], empty: Iterable[int] = ()) -> None:
        """List each folder not known yet (``concurrency`` at a time: reads only); those in
        ``empty`` (created by us) hold nothing."""
        for folder in empty:
            if folder not in self.known:
                self.known[folder] = {}
        todo = sorted({f for f in folders if f not in self.known})
        in_pool(self._read, todo, self.concurrency)

    def existing(self, wanted: dict[str, tuple[int, str]]) -> dict[str, TctRef]:
        """case id -> its test case, for those that exist (one listing per folder)."""
        self.list_folders(folder for folder, _ in wanted.values())
        known = self.known
        return {
            case_id: known[folder][name]
            for case_id, (folder, name) in wanted.items()
            if name in known[folder]
        }

    def ensure(self, wanted: dict[str, tuple[int, str]]) -> dict[str, TctRef]:
        """case id -> its test case, creating the missing ones ≤ ``BATCH`` a call."""
        found = self.existing(wanted)
        if len(found) < len(wanted):
            self.create(sorted({wanted[c] for c in wanted if c not in found}))
            found = self.existing(wanted)
        return found

    def create(self, places: list[tuple[int, str]]) -> None:
        """Create the test cases at ``places`` (folder, name) that are not known yet; every
        folder must have been listed (or be known empty)."""
        missing = [(f, n) for f, n in places if n not in self.known[f]]
        if missing:
            self.progress(f"creating {len(missing):,} test cases in the Zephyr repository")
        for start in range(0, len(missing), BATCH):
            self._create(missing[start : start + BATCH])

    def _create(self, batch: list[tuple[int, str]]) -> None:
        for _attempt in range(3):
            todo = [(f, n) for f, n in batch if n not in self.known.get(f, {})]
            if not todo:
                return
            folders = sorted({f for f, _ in todo})
            if self.journal is not None and not self._declared:
                self.journal.declare(TESTCASES, {"at_epoch": time.time()})
                self._declared = True
            items = [testcase_item(f, n, n, self.project_id, self.release_id) for f, n in todo]
            try:
                created = [
                    made for part in send_halving(self.api.create_cases, items) for made in part
                ]
            except ServerError as exc:
                if not answer_lost(exc):
                    raise
                self.progress("the answer to a test-case creation was lost; looking for them")
                for folder in folders:
                    self._read(folder)  # docs/servers/zephyr.md §6: look before creating again
                continue
            ours = {n: n for _, n in todo}  # the answer's names are copies: keep ours
            for item in created:
                parsed = _tct(item)
                home = as_id(item.get("tcrCatalogTreeId"))
                if parsed is not None and home is not None:
                    name = ours.get(parsed[0], parsed[0])
                    self.known.setdefault(home, {}).setdefault(name, parsed[1])
            if any(n not in self.known.get(f, {}) for f, n in todo):
                for folder in folders:  # an answer without the created tcts: read them
                    self._read(folder)
            return
        raise ServerProtocolError(
            "creating test cases in the Zephyr repository kept losing its answer; the run is "
            "kept, and sending it again (the command below) creates nothing twice"
        )
