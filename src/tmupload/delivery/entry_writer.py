"""An outbox entry written while the tests run, as ``--junitxml`` writes its file.

The entry's folder is made when the session starts, with ``settings.json`` (where the run
goes, no secrets) and ``writer.json`` (the writing process). Each finished case is appended to
``cases.jsonl`` as its test ends (its attachments copied into the entry first, so a file the
test deletes later still goes), a line a case, handed to the system at once: the courier
follows it while the tests run, a killed process loses none of it, and nothing is held. The
session end writes ``run.json`` — the header that makes the entry complete — and removes
``writer.json``.

An entry without its header is still being written, unless its writer is gone (killed): then
:func:`finish_abandoned` completes it as an interrupted run, so what was written is delivered
(by the courier, or later by ``tmupload resend``) and never lost.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from tmupload.attachments import AttachmentSpool
from tmupload.delivery.runfile import CASES_FILE, RUN_FILE, append_case, write_header
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings

__all__ = [
    "INTERRUPTED",
    "WRITER_FILE",
    "EntryWriter",
    "finish_abandoned",
    "pid_alive",
    "writer_alive",
]

WRITER_FILE = "writer.json"
#: Appended to the name of a run cut short: a partial run never passes for a whole one.
INTERRUPTED = " (interrupted)"


class EntryWriter:
    """Appends a session's cases to its outbox entry as they finish."""

    def __init__(
        self,
        folder: Path,
        settings: Settings,
        *,
        name: str,
        started_at: datetime,
    ) -> None:
        self.folder = folder
        self.name = name
        self.started_at = started_at
        self._attachments = AttachmentSpool(settings, folder)
        self.count = 0
        self._handle: BinaryIO | None = open(folder / CASES_FILE, "ab")  # noqa: SIM115
        record = {"pid": os.getpid(), "name": name, "started_at": started_at.isoformat()}
        (folder / WRITER_FILE).write_text(json.dumps(record), encoding="utf-8")

    @property
    def notes(self) -> list[str]:
        """One line per attachment left out (missing, over a limit)."""
        return self._attachments.notes

    def add(self, case: CaseResult) -> None:
        """One finished case: its files copied, its record written and handed to the system
        (a kill of this process loses none of it; the courier sees it at once)."""
        if self._handle is None:
            return
        self._attachments.add(case)
        append_case(self._handle, case)
        self._handle.flush()
        self.count += 1

    def finish(
        self, *, interrupted: bool, finished_at: datetime, environment: dict[str, str]
    ) -> str:
        """Write the header: the entry is complete. Returns the run's name."""
        if self._handle is not None:
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None
        name = self.name + (INTERRUPTED if interrupted else "")
        header = RunReport(
            name=name,
            started_at=self.started_at,
            finished_at=finished_at,
            environment=environment,
        )
        write_header(header, self.count, self.folder)
        (self.folder / WRITER_FILE).unlink(missing_ok=True)
        return name

    def close(self) -> None:
        """Let the file go without completing the entry (the session could not finish it)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def writer_alive(folder: Path) -> bool:
    """Whether the process writing the entry in ``folder`` still runs (same machine)."""
    try:
        record = json.loads((folder / WRITER_FILE).read_text(encoding="utf-8"))
        pid = int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (one we may not signal counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def finish_abandoned(folder: Path) -> bool:
    """Complete an entry whose writer died before its header: every whole line written is
    kept (a line cut short by the crash is dropped), named as an interrupted run. Returns
    whether the entry was completed here."""
    if (folder / RUN_FILE).exists():
        return False
    try:
        record = json.loads((folder / WRITER_FILE).read_text(encoding="utf-8"))
        name = str(record.get("name") or "pytest")
        started_at = datetime.fromisoformat(str(record["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        name, started_at = "pytest", datetime.now(timezone.utc)
    cases_file = folder / CASES_FILE
    count = 0
    kept = 0
    if cases_file.exists():
        with open(cases_file, "rb") as handle:
            for line in handle:
                if not line.endswith(b"\n"):
                    break
                kept += len(line)
                if line.strip():
                    count += len(json.loads(line))
        if kept != cases_file.stat().st_size:
            os.truncate(cases_file, kept)
    header = RunReport(
        name=name + INTERRUPTED,
        started_at=started_at,
        finished_at=datetime.now(timezone.utc),
        environment={},
    )
    write_header(header, count, folder)
    (folder / WRITER_FILE).unlink(missing_ok=True)
    return True
