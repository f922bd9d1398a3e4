"""The outbox: a run is on disk before the first request and leaves only when fully delivered.

Layout: ``<outbox>/<entry>/run.json`` (the RunReport), ``settings.json`` (where it goes, no
secrets), ``steps.json`` (the journal of finished steps) and ``error.txt`` (the last failure).
Every file is written to a temporary name and renamed, and a new entry is built in a hidden
directory and renamed into place, so a crash never leaves a half-written entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tmupload.errors import TmUploadError
from tmupload.models import RunReport
from tmupload.settings import Settings

__all__ = ["Outbox", "OutboxEntry", "OutboxLocked"]


class OutboxLocked(TmUploadError):
    """Another process is sending this outbox entry right now."""


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class OutboxEntry:
    """One spooled run; also the Journal its delivery records steps in."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._steps: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def run(self) -> RunReport:
        return RunReport.model_validate_json((self.path / "run.json").read_bytes())

    def settings_data(self) -> dict[str, Any]:
        data = json.loads((self.path / "settings.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    def _load_steps(self) -> dict[str, Any]:
        if self._steps is None:
            try:
                self._steps = json.loads((self.path / "steps.json").read_text(encoding="utf-8"))
            except FileNotFoundError:
                self._steps = {}
        return self._steps

    def step(self, name: str) -> dict[str, Any] | None:
        value = self._load_steps().get(name)
        return value if isinstance(value, dict) else None

    def record(self, name: str, data: dict[str, Any]) -> None:
        steps = self._load_steps()
        steps[name] = data
        _write_atomic(self.path / "steps.json", json.dumps(steps).encode("utf-8"))

    def steps_done(self) -> list[str]:
        return list(self._load_steps())

    def record_error(self, message: str) -> None:
        _write_atomic(self.path / "error.txt", message.encode("utf-8"))

    def last_error(self) -> str | None:
        try:
            return (self.path / "error.txt").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None

    def remove(self) -> None:
        for child in self.path.iterdir():
            child.unlink()
        self.path.rmdir()

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
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Outbox:
    """A directory of OutboxEntry folders, oldest first."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def spool(self, run: RunReport, settings: Settings) -> OutboxEntry:
        """Write the run durably and return its entry (before any network I/O)."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"{stamp}-{secrets.token_hex(4)}"
        staging = Path(tempfile.mkdtemp(dir=self.root, prefix=".incoming-"))
        try:
            _write_atomic(staging / "run.json", run.model_dump_json().encode("utf-8"))
            _write_atomic(
                staging / "settings.json",
                json.dumps(settings.safe_dump(), indent=1).encode("utf-8"),
            )
            final = self.root / name
            os.replace(staging, final)
        except BaseException:
            for child in staging.glob("*"):
                child.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                staging.rmdir()
            raise
        return OutboxEntry(final)

    def entries(self) -> list[OutboxEntry]:
        if not self.root.is_dir():
            return []
        return [
            OutboxEntry(path)
            for path in sorted(self.root.iterdir())
            if path.is_dir() and not path.name.startswith(".") and (path / "run.json").is_file()
        ]
