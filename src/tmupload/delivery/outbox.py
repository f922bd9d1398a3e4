"""The outbox: a run is on disk before the first request and leaves only when fully delivered.

Layout: ``<outbox>/<entry>/run.json`` and ``cases.jsonl`` (the RunReport, see ``runfile.py``;
an entry of an earlier version has the whole run in ``run.json``), ``settings.json`` (which
target and where it goes, no secrets), ``steps.json`` and ``items.jsonl`` (the journal, see
``journal.py``) and ``error.txt`` (the last failure). A new entry is built in a hidden
directory and renamed into place, and every file written later goes to a temporary name and
is renamed, so a crash never leaves a half-written entry: a hidden ``.incoming-*`` directory
left by a crash is never taken for an entry.

``settings.json`` of schema 2 is ``{"schema": 2, "target": NAME, "frozen": {setting: value}}``:
the settings that fix where the run goes, frozen at spool time. Schema 1 (no ``schema`` key)
was every setting, flat, and always meant the first target, ``et``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tmupload.attachments import resolve, spool_attachments
from tmupload.delivery.entry_writer import (
    WRITER_FILE,
    EntryWriter,
    finish_abandoned,
    pid_alive,
    writer_alive,
)
from tmupload.delivery.journal import FileJournal, write_atomic
from tmupload.delivery.runfile import RUN_FILE, case_count, read_run, write_run
from tmupload.errors import TmUploadError
from tmupload.models import RunReport
from tmupload.settings import Settings

__all__ = ["Outbox", "OutboxEntry", "OutboxLocked"]


class OutboxLocked(TmUploadError):
    """Another process is sending this outbox entry right now."""


#: The settings.json layout this code writes.
SCHEMA = 2
#: Prefix of an entry taken out of the outbox and being deleted (never read as an entry).
_REMOVED = ".removed-"
# Settings every target freezes: what gets linked was decided when the run was spooled.
_CORE_FROZEN = ("link_on", "no_link", "link_failures", "run_key", "build", "build_url")


class OutboxEntry:
    """One spooled run, its target and frozen settings, and the journal of its delivery."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._journal: FileJournal | None = None
        self._stored: dict[str, Any] | None = None
        self.notes: list[str] = []  # what spooling left out (attachments), for the summary

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def journal(self) -> FileJournal:
        if self._journal is None:
            self._journal = FileJournal(self.path)
        return self._journal

    def run(self) -> RunReport:
        """The spooled run, read back and validated (attachment paths made absolute)."""
        return resolve(read_run(self.path), self.path)

    def case_count(self) -> int:
        """How many results the entry holds, without reading them (format 2 entries)."""
        return case_count(self.path)

    def stored(self) -> dict[str, Any]:
        """``settings.json`` as stored (the target, the frozen settings, what else it says)."""
        return dict(self._settings_file())

    def _settings_file(self) -> dict[str, Any]:
        if self._stored is None:
            data = json.loads((self.path / "settings.json").read_text(encoding="utf-8"))
            self._stored = data if isinstance(data, dict) else {}
        return self._stored

    @property
    def schema(self) -> int:
        return int(self._settings_file().get("schema", 1))

    @property
    def target(self) -> str:
        """The target the run was spooled for (entries of schema 1 were all for ``et``)."""
        return str(self._settings_file().get("target", "et"))

    def frozen(self) -> dict[str, Any]:
        """The settings frozen at spool time, by option name (values as JSON)."""
        data = self._settings_file()
        if self.schema >= 2:
            frozen = data.get("frozen")
            return dict(frozen) if isinstance(frozen, dict) else {}
        # Schema 1: every setting, flat; these fixed where the run went and what got linked.
        from tmupload.targets.registry import get_spec

        legacy = (*get_spec("et").frozen, *_CORE_FROZEN)
        return {key: data[key] for key in legacy if data.get(key) is not None}

    def age(self) -> float:
        """Seconds since the entry was spooled."""
        return max(0.0, time.time() - (self.path / RUN_FILE).stat().st_mtime)

    def record_error(self, message: str) -> None:
        write_atomic(self.path / "error.txt", message.encode("utf-8"))

    def last_error(self) -> str | None:
        try:
            return (self.path / "error.txt").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def remove(self, *, in_background: bool = False) -> None:
        """Delete the entry. ``in_background``: take it out of the outbox at once (a rename,
        so it is never resent) and delete its files in a thread the interpreter waits for at
        exit. Deleting a 10,000-test run's files (its payload, 100 attachments) took 0.2 s of
        the session end here; in the background it overlaps pytest's own summary."""
        if not in_background:
            shutil.rmtree(self.path)
            return
        gone = self.path.with_name(f"{_REMOVED}{self.path.name}")
        try:
            os.replace(self.path, gone)
        except OSError:  # e.g. a file of it held open elsewhere (Windows): delete it here
            shutil.rmtree(self.path)
            return
        threading.Thread(
            target=shutil.rmtree, args=(gone, True), name="tmupload-outbox-cleanup"
        ).start()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the entry's lock; a second sender gets OutboxLocked instead of double-sending."""
        lock = self.path / "lock"
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            if _stale(lock):
                lock.unlink(missing_ok=True)
                fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            else:
                raise OutboxLocked(
                    f"{self.path} is being sent by another process (lock {lock}); "
                    "wait for it, or delete the lock file if that process is gone"
                ) from None
        try:
            os.write(fd, str(os.getpid()).encode("ascii"))
            os.close(fd)
            yield
        finally:
            lock.unlink(missing_ok=True)


def _stale(lock: Path) -> bool:
    """A lock whose process no longer exists (same machine) is stale."""
    try:
        pid = int(lock.read_text(encoding="ascii").strip() or "0")
    except (OSError, ValueError):
        return False
    return pid > 0 and not pid_alive(pid)


def _ignore_in_git(root: Path) -> None:
    """Keep spooled runs out of version control, as pytest does for its cache: the default
    ``.tmupload`` folder gets a ``.gitignore`` of ``*`` (a folder of the user's choosing is
    theirs to manage)."""
    if root.name != "outbox" or root.parent.name != ".tmupload":
        return
    marker = root.parent / ".gitignore"
    if not marker.exists():
        with contextlib.suppress(OSError):
            marker.write_text("# created by tmupload: spooled runs stay local\n*\n")


class Outbox:
    """A directory of OutboxEntry folders, oldest first."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def spool(self, run: RunReport, settings: Settings) -> OutboxEntry:
        """Write the run durably and return its entry (before any network I/O).

        The target's ``frozen`` settings (those that fix where the run goes) and the link
        policy are stored with it; secrets never are.
        """
        name = self._prepare()
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        try:
            notes = spool_attachments(run, settings, staging)
            write_run(run, staging)
            _write_settings(settings, staging)
            final = self.root / name
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        resolve(run, final)
        entry = OutboxEntry(final)
        entry.notes = notes
        return entry

    def open(self, settings: Settings, *, name: str, started_at: datetime) -> EntryWriter:
        """A new entry, written case by case as the tests finish (see ``entry_writer.py``):
        complete once its writer finishes it."""
        folder = self.root / self._prepare()
        folder.mkdir()
        try:
            _write_settings(settings, folder)
            return EntryWriter(folder, settings, name=name, started_at=started_at)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _prepare(self) -> str:
        """Make the outbox and sweep what a killed process left; a new entry's name."""
        self.root.mkdir(parents=True, exist_ok=True)
        _ignore_in_git(self.root)
        for left in self.root.glob(f"{_REMOVED}*"):  # a process killed while deleting it
            shutil.rmtree(left, ignore_errors=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        return f"{stamp}-{secrets.token_hex(4)}"

    def find(self, name: str) -> OutboxEntry | None:
        """The entry named ``name`` (or the only one whose name starts with it)."""
        matches = [entry for entry in self.entries() if entry.name.startswith(name)]
        exact = [entry for entry in matches if entry.name == name]
        if exact:
            return exact[0]
        return matches[0] if len(matches) == 1 else None

    def entries(self) -> list[OutboxEntry]:
        """The complete entries, oldest first. An entry whose writer died before finishing it
        is completed here as an interrupted run (never lost); one still being written is not
        an entry yet."""
        if not self.root.is_dir():
            return []
        found: list[OutboxEntry] = []
        for path in sorted(self.root.iterdir()):
            if not path.is_dir() or path.name.startswith("."):
                continue
            if not (path / RUN_FILE).is_file():
                if not (path / WRITER_FILE).is_file() or writer_alive(path):
                    continue
                finish_abandoned(path)
            found.append(OutboxEntry(path))
        return found


def _write_settings(settings: Settings, folder: Path) -> None:
    """``settings.json``: the target, and its settings that fix where the run goes (frozen
    now; never a secret)."""
    from tmupload.targets.registry import get_spec

    dumped = settings.safe_dump()
    frozen = {
        key: dumped["target_options"][key] if key in settings.target_options else dumped[key]
        for key in (*get_spec(settings.target).frozen, *_CORE_FROZEN)
    }
    stored = {"schema": SCHEMA, "target": settings.target, "frozen": frozen}
    write_atomic(folder / "settings.json", json.dumps(stored, indent=1).encode("utf-8"))
