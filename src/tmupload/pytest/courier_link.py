"""The pytest side of the courier (``delivery/courier.py``): start it, tell it the entry is
complete, and read what it says.

The courier runs in a session (POSIX) or process group (Windows) of its own, so the Ctrl-C a
terminal sends to pytest's group never reaches it. Its stdin carries the settings — with the
credentials, which thus touch neither a file nor the child's environment — and then one
``complete``; its stdout carries JSON lines that pytest reads only at the session end.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tmupload.settings import Settings
from tmupload.targets.registry import spec_module

__all__ = ["CourierLink"]

#: Must match ``delivery/courier.py``.
_COMPLETE = "complete\n"
#: How much the courier yields the CPU to the tests (POSIX ``nice``; on Windows the
#: process is started below normal priority).
COURIER_NICENESS = 10


def _settings_payload(settings: Settings) -> dict[str, Any]:
    data = settings.model_dump(mode="json")
    for name in ("password", "token"):
        secret = getattr(settings, name)
        data[name] = secret.get_secret_value() if secret is not None else None
    return data


def _yield_to_the_tests(pid: int) -> None:
    """The tests come first: on a machine whose cores the xdist workers fill, the courier's
    start-up and streaming would otherwise take CPU from them (the first test started up to
    0.5 s later, BENCHMARKS.md). Once the tests are over nothing competes, so the lower
    priority costs the delivery nothing then. Set here, as the process is made, so it holds
    from its first instruction on (not once its interpreter has started)."""
    if hasattr(os, "setpriority"):
        with contextlib.suppress(OSError):
            os.setpriority(
                os.PRIO_PROCESS, pid, os.getpriority(os.PRIO_PROCESS, 0) + COURIER_NICENESS
            )


class CourierLink:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process

    @classmethod
    def start(cls, settings: Settings, entry: Path) -> CourierLink:
        """Start the courier for the entry being written in ``entry``."""
        detached: dict[str, Any] = (
            {"start_new_session": True}
            if os.name == "posix"
            else {
                "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
                | getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
            }
        )
        process = subprocess.Popen(
            [sys.executable, "-m", "tmupload", "_courier"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            **detached,
        )
        _yield_to_the_tests(process.pid)
        link = cls(process)
        hello = {
            "settings": _settings_payload(settings),
            "entry": str(entry),
            # A target registered in this process (a plug-in's) and where it imports from.
            "target_module": spec_module(settings.target),
            "path": [p for p in sys.path if isinstance(p, str)],
        }
        link._send(json.dumps(hello))
        return link

    @property
    def pid(self) -> int:
        return self.process.pid

    def _send(self, line: str) -> None:
        stdin = self.process.stdin
        if stdin is None:
            return
        try:
            stdin.write(line if line.endswith("\n") else line + "\n")
            stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the courier is gone: what it left is in the outbox, found by resend

    def complete(self, notes: list[str]) -> None:
        """The entry's header is written: the courier may deliver. ``notes``: what this
        process has to say in the summary (attachments left out)."""
        if notes:
            self._send(json.dumps({"notes": notes}))
        self._send(_COMPLETE)
        self._close_stdin()

    def abandon(self) -> None:
        """No ``complete`` will come: the courier delivers what was written as interrupted."""
        self._close_stdin()

    def _close_stdin(self) -> None:
        stdin = self.process.stdin
        if stdin is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                stdin.close()

    def messages(self) -> Iterator[dict[str, Any]]:
        """What the courier says, message by message, until it ends (blocking)."""
        stdout = self.process.stdout
        if stdout is None:
            return
        for line in stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                yield message

    def close(self) -> None:
        """The courier said its last word: let its pipe go and reap it (it ends right after;
        a process left unreaped would be reported when this object goes)."""
        if self.process.stdout is not None:
            self.process.stdout.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _LEFT_RUNNING.append(self.process)

    def leave_running(self) -> None:
        """pytest stops waiting (a Ctrl-C): the courier goes on by itself."""
        _LEFT_RUNNING.append(self.process)

    def stop(self) -> None:
        """Nothing to deliver: end the courier now."""
        self.process.kill()
        self._close_stdin()
        self.close()


#: Couriers still delivering when pytest stopped waiting: kept referenced to the end, so
#: that their Popen objects are not collected (and reported) while they run.
_LEFT_RUNNING: list[subprocess.Popen[str]] = []
