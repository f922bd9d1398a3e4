"""The courier: the process that delivers a pytest session's run while pytest writes it.

The pytest process only writes (``entry_writer.py``); it starts this process as
``python -m tmupload _courier`` in a process group of its own, so a terminal's Ctrl-C does
not reach it, and talks to it through two pipes:

* **its stdin**: the first line is the settings (with the credentials: never on disk, never
  in the environment) and the entry; then ``complete`` once the entry's header is written.
  End of input without ``complete`` means the pytest process is gone (killed): what it wrote
  is delivered as an interrupted run.
* **its stdout**: JSON lines — ``{"progress": …}``, ``{"trouble": …}`` and last
  ``{"outcome": {"ok", "failed", "lines": [[colour, text], …]}}``. Nothing is written before
  ``complete`` (pytest reads the pipe only at the session end); a reader that went away
  (pytest stopped waiting at a Ctrl-C) silences the courier, which goes on delivering.

Meanwhile it does the lookups (``prepare``) at once and follows ``cases.jsonl`` as it grows,
handing each case to the target's stream: results go out while the tests run, in serial
sessions too — no test's mock of httpx reaches another process. It holds the entry's lock
from start to end, so no ``tmupload resend`` sends the same entry meanwhile. Once complete,
the delivery is bounded by ``--tm-deadline``; the process never outlives it by more than
``_GRACE`` seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from tmupload.attachments import resolve
from tmupload.delivery.entry_writer import finish_abandoned
from tmupload.delivery.outbox import OutboxEntry, OutboxLocked
from tmupload.delivery.outcome import UploadOutcome
from tmupload.delivery.runfile import CASES_FILE, RUN_FILE, read_cases_line, read_run
from tmupload.errors import TmUploadError
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import CaseStream
from tmupload.targets.registry import register, spec_module

__all__ = ["COMPLETE", "CaseTail", "main"]

COMPLETE = "complete"
#: Seconds the courier may outlive the delivery's deadline (a last read, the summary).
_GRACE = 30.0
#: Seconds between two looks at the growing cases file.
_FOLLOW_EVERY = 0.05


class _NothingToSend(Exception):
    """The pytest process ended before writing any case."""


class CaseTail:
    """The cases of a ``cases.jsonl`` that another process is still appending to: each call
    returns the cases of the whole lines added since the last one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""

    def read(self) -> list[CaseResult]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        self._offset += len(data)
        data = self._partial + data
        end = data.rfind(b"\n") + 1
        self._partial = data[end:]
        cases: list[CaseResult] = []
        for line in data[:end].splitlines():
            if line.strip():
                cases.extend(read_cases_line(line))
        return cases


class _Messages:
    """The courier's stdout: held until pytest reads it, then written as it comes; silent
    once the reader is gone."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._held: list[str] = []
        self._open = False
        self._gone = False
        self._lock = threading.Lock()

    def send(self, kind: str, value: Any) -> None:
        line = json.dumps({kind: value}, ensure_ascii=False)
        with self._lock:
            if not self._open:
                self._held.append(line)
                return
            self._write([line])

    def __call__(self, message: str) -> None:
        """A target's progress line."""
        self.send("progress", message)

    def trouble(self, message: str) -> None:
        self.send("trouble", message)

    def release(self) -> None:
        with self._lock:
            self._open = True
            held, self._held = self._held, []
            self._write(held)

    def _write(self, lines: list[str]) -> None:
        if self._gone or not lines:
            return
        try:
            self._out.write("".join(f"{line}\n" for line in lines))
            self._out.flush()
        except (BrokenPipeError, OSError, ValueError):
            self._gone = True  # pytest stopped waiting: the delivery goes on, silently


class _Control:
    """Reads stdin in a thread: ``complete``, or the end of input (the writer is gone)."""

    def __init__(self, stdin: IO[str]) -> None:
        self.complete = threading.Event()
        self.ended = threading.Event()
        self.notes: list[str] = []  # the writer's, for the summary (attachments left out)
        threading.Thread(target=self._read, args=(stdin,), daemon=True).start()

    def _read(self, stdin: IO[str]) -> None:
        try:
            for line in stdin:
                if line.strip() == COMPLETE:
                    self.complete.set()
                elif line.startswith("{"):
                    notes = json.loads(line).get("notes")
                    if isinstance(notes, list):
                        self.notes.extend(str(note) for note in notes)
        except (OSError, ValueError):
            pass
        self.ended.set()

    def wait(self, seconds: float) -> bool:
        """Whether the writer is done (complete, or gone), after waiting up to ``seconds``."""
        return self.ended.wait(seconds) or self.complete.is_set()


def _follow(
    tail: CaseTail, control: _Control, sink: Callable[[CaseResult], None]
) -> Iterator[None]:
    """Hand each case written to ``sink`` until the writer is done (one step a look)."""
    while True:
        done = control.wait(_FOLLOW_EVERY)
        for case in tail.read():
            sink(case)
        if done:
            return
        yield


def _latest_by_id(cases: list[CaseResult]) -> list[CaseResult]:
    """One case per case id, the one written last, in the place of the first (a worker that
    crashed after its test was written reports it again)."""
    index: dict[str, int] = {}
    kept: list[CaseResult] = []
    for case in cases:
        at = index.get(case.case_id)
        if at is None:
            index[case.case_id] = len(kept)
            kept.append(case)
        else:
            kept[at] = case
    return kept


def deliver_entry(
    settings: Settings,
    entry: OutboxEntry,
    control: _Control,
    messages: _Messages,
) -> UploadOutcome:
    """Follow the entry while it is written, then deliver it (the entry's lock is held)."""
    from tmupload.delivery.pipeline import deliver_spooled
    from tmupload.targets.registry import make_target

    target = make_target(settings, progress=messages)
    preparing: threading.Thread | None = None
    prepare = getattr(target, "prepare", None)
    if callable(prepare) and not settings.dry_run:
        preparing = threading.Thread(target=prepare, name="tmupload-prepare", daemon=True)
        preparing.start()
    stream: CaseStream | None = None
    open_stream = getattr(target, "stream", None)
    if callable(open_stream):
        stream = open_stream(may_send=not settings.dry_run)
    cases: list[CaseResult] = []

    def take(case: CaseResult) -> None:
        cases.append(case)
        if stream is not None:
            stream.add(case)

    for _ in _follow(CaseTail(entry.path / CASES_FILE), control, take):
        pass
    if not control.complete.is_set():
        if not cases and not (entry.path / RUN_FILE).exists():
            raise _NothingToSend  # the session ended before any test: nothing to deliver
        finish_abandoned(entry.path)  # the pytest process is gone: an interrupted run
    _watchdog(settings.deadline + _GRACE)
    header = read_run_header(entry.path)
    run = RunReport(
        name=header.name,
        started_at=header.started_at,
        finished_at=header.finished_at,
        environment=header.environment,
        cases=_latest_by_id(cases),
    )
    resolve(run, entry.path)
    messages.release()  # pytest is waiting now: what was held, then everything as it comes
    if preparing is not None and preparing.is_alive():
        messages("finishing the lookups started with the tests")
    if stream is not None:
        stream.end()
    if preparing is not None:
        preparing.join()
    return deliver_spooled(run, settings, entry, target)


def read_run_header(folder: Path) -> RunReport:
    """The run's header alone (its cases were followed as they were written)."""
    data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("cases"), dict):
        data = {**data, "cases": []}
        from pydantic import TypeAdapter

        return TypeAdapter(RunReport).validate_python(data)
    return read_run(folder)


def _same_targets(hello: dict[str, Any]) -> None:
    """Import and register the target as the pytest process has it (a plug-in's target
    lives on that process's import path)."""
    for folder in hello.get("path") or ():
        if isinstance(folder, str) and folder not in sys.path:
            sys.path.append(folder)
    module = hello.get("target_module")
    name = hello.get("settings", {}).get("target")
    if isinstance(module, str) and isinstance(name, str) and spec_module(name) != module:
        register(name, module)


def _watchdog(seconds: float) -> None:
    """End the process if the delivery overran its deadline by far (a hung server)."""
    timer = threading.Timer(seconds, os._exit, args=(3,))
    timer.daemon = True
    timer.start()


def main(stdin: IO[str], stdout: IO[str]) -> int:
    """The courier's entry point (``python -m tmupload _courier``)."""
    from tmupload.delivery.report import summary_lines

    messages = _Messages(stdout)
    try:
        hello = json.loads(stdin.readline())
        _same_targets(hello)
        settings = Settings.model_validate(hello["settings"])
        entry = OutboxEntry(Path(hello["entry"]))
    except (ValueError, KeyError, TypeError) as exc:
        messages.release()
        messages.send("outcome", {"ok": False, "lines": [["red", f"courier: bad input ({exc})"]]})
        return 2
    control = _Control(stdin)
    try:
        with entry.locked():
            outcome = deliver_entry(settings, entry, control, messages)
    except _NothingToSend:
        shutil.rmtree(entry.path, ignore_errors=True)
        return 0
    except OutboxLocked as exc:
        messages.release()
        messages.send("outcome", {"ok": False, "lines": [["red", str(exc)]]})
        return 1
    except TmUploadError as exc:
        messages.release()
        error = f"upload FAILED: {exc}; the run stays in the outbox at {entry.path}"
        entry.record_error(str(exc))
        messages.send("outcome", {"ok": False, "lines": [["red", error]]})
        return 1
    outcome.notes.extend(control.notes)
    lines = [[colour, text] for colour, text in summary_lines(outcome)]
    messages.send("outcome", {"ok": outcome.ok, "dry_run": outcome.dry_run, "lines": lines})
    return 0 if outcome.ok else 1
