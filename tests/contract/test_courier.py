"""The pytest process only writes; a courier process delivers. On every target: tests that
mock httpx see nothing of ours, and Ctrl-C (as a terminal sends it, to the process group)
during the tests or while the session end waits, or a kill after the last test, never loses
the run nor sends it twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from servers import Server, upload_args

pytestmark = pytest.mark.skipif(os.name != "posix", reason="process groups and signals")

SUITE = """
def test_one():
    pass

def test_two():
    assert False

def test_three():
    pass
"""

EXPECTED = {
    "test_suite.py::test_one": "passed",
    "test_suite.py::test_two": "failed",
    "test_suite.py::test_three": "passed",
}

#: A progress line of the upload (not a terminal: a plain line with the time taken so far).
PROGRESS = re.compile(r"^tmupload: .* \[\d+\.\ds\]$")

#: Seconds a background process is given to finish what it was doing (not a sleep: the
#: checks below return as soon as the condition holds).
PATIENCE = 60.0


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for another process to bring ``condition`` about."""
    end = time.monotonic() + PATIENCE
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"{what}: not within {PATIENCE:.0f}s")
        time.sleep(0.05)


def _entries(outbox: Path) -> list[Path]:
    return [p for p in outbox.iterdir() if not p.name.startswith(".")] if outbox.exists() else []


def _session(folder: Path, args: list[str]) -> subprocess.Popen[str]:
    """A pytest session in a process group of its own, as a terminal starts it: a SIGINT
    sent to that group is the terminal's Ctrl-C."""
    return subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a non-interactive shell inherits SIGINT ignored,
    # and so would the session: give it the disposition a terminal's foreground job has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_tests_that_mock_httpx_see_nothing_of_the_upload(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(
        test_suite="""
        import httpx

        def test_one(httpx_mock):
            httpx_mock.add_response(url="https://api.example/x", json={"ok": True})
            assert httpx.get("https://api.example/x").json() == {"ok": True}

        def test_two(httpx_mock):
            # Every request this test did not expect fails it: ours must never reach it.
            assert httpx_mock.get_requests() == []
            assert False

        def test_three():
            pass
        """
    )
    result = pytester.runpytest_subprocess(*upload_args(server, outbox))
    result.assert_outcomes(passed=2, failed=1)
    assert server.landed() == EXPECTED
    assert server.uploads() == 1
    assert _entries(outbox) == []


def test_ctrl_c_during_the_tests_delivers_what_ran_once_as_an_interrupted_run(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(
        test_suite="""
        import os, signal

        def test_one():
            pass

        def test_two():
            assert False

        def test_stop():
            os.killpg(os.getpgrp(), signal.SIGINT)  # the terminal's Ctrl-C

        def test_never():
            pass
        """
    )
    session = _session(pytester.path, upload_args(server, outbox))
    out, _ = session.communicate(timeout=PATIENCE)
    assert session.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "KeyboardInterrupt" in out  # pytest's own one-line notice
    assert "uploaded as" in out and "(interrupted)" in out
    landed = server.landed()
    assert landed["test_suite.py::test_one"] == "passed"
    assert landed["test_suite.py::test_two"] == "failed"
    assert "test_suite.py::test_never" not in landed
    assert server.uploads() == 1
    assert _entries(outbox) == []


@pytest.mark.parametrize("presses", [1, 2], ids=["once", "twice"])
def test_ctrl_c_while_the_session_end_waits_prints_one_line_and_the_run_still_lands_once(
    pytester: pytest.Pytester, server: Server, outbox: Path, presses: int
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    server.emulator.config.latency = 0.3  # type: ignore[attr-defined]
    session = _session(pytester.path, upload_args(server, outbox))
    assert session.stdout is not None
    seen: list[str] = []
    for line in session.stdout:
        seen.append(line)
        if PROGRESS.match(line):  # the session end shows the courier's progress: it waits
            for _ in range(presses):
                os.killpg(session.pid, signal.SIGINT)
            break
    rest, _ = session.communicate(timeout=PATIENCE)
    out = "".join(seen) + rest
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    stopped = [line for line in out.splitlines() if "stopped waiting" in line]
    assert len(stopped) == 1, out
    assert "tmupload outbox --outbox" in stopped[0] and "tmupload resend --outbox" in stopped[0]
    assert session.returncode == pytest.ExitCode.TESTS_FAILED  # the tests' own status
    _until(lambda: _entries(outbox) == [], "the courier delivered and emptied the outbox")
    assert server.landed() == EXPECTED
    assert server.uploads() == 1


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_ctrl_c_after_the_last_test_before_the_waiting_begins_is_one_line_too(
    pytester: pytest.Pytester, server: Server, outbox: Path, workers: list[str]
) -> None:
    """The Ctrl-C comes while the session is ending but before tmupload waits (xdist stops
    its workers, another plugin ends its part): it is not a traceback in their code; the
    waiting then stops at once, with the one line, and the run lands once."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(
        """
        import os, signal

        def pytest_sessionfinish(session):
            if hasattr(session.config, "workerinput"):
                return
            os.killpg(0, signal.SIGINT)  # the terminal's Ctrl-C, to the whole group
        """
    )
    session = _session(pytester.path, [*upload_args(server, outbox), *workers])
    out, _ = session.communicate(timeout=PATIENCE)
    assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
    stopped = [line for line in out.splitlines() if "stopped waiting" in line]
    assert len(stopped) == 1, out
    assert session.returncode == pytest.ExitCode.TESTS_FAILED, out  # the tests' own status
    _until(lambda: _entries(outbox) == [], "the courier delivered and emptied the outbox")
    assert server.landed() == EXPECTED
    assert server.uploads() == 1


def test_a_session_stuck_before_the_waiting_still_stops_at_a_later_ctrl_c(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    """A Ctrl-C after the last test is held for the waiting; but if something before the
    waiting hangs (another plugin's session end), a later Ctrl-C still stops it, and the
    courier delivers what was written, once, as an interrupted run."""
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(
        """
        import os, signal, time
        import tmupload.pytest.collector as collector

        def pytest_sessionfinish(session):
            collector.HELD_FOR = 0.0  # any later press counts as late (no waiting on a clock)
            os.killpg(0, signal.SIGINT)  # the first Ctrl-C: held for the waiting
            print("\\nSTUCK", flush=True)
            began = time.monotonic()
            while time.monotonic() - began < 30:  # a plugin that does not return
                time.sleep(0.01)
            print("NOT INTERRUPTED", flush=True)
        """
    )
    session = _session(pytester.path, [*upload_args(server, outbox), "-s"])
    assert session.stdout is not None
    seen: list[str] = []
    for line in session.stdout:
        seen.append(line)
        if "STUCK" in line:
            os.killpg(session.pid, signal.SIGINT)  # the second, later Ctrl-C
            break
    rest, _ = session.communicate(timeout=PATIENCE)
    out = "".join(seen) + rest
    # Stopped in the stuck plugin's code (pytest shows that interrupt as it would without
    # tmupload), not 30 s later when the plugin would have returned.
    assert "NOT INTERRUPTED" not in out and "KeyboardInterrupt" in out, out
    assert session.returncode != 0, out
    _until(lambda: server.uploads() == 1, "the courier delivered the stuck session's run")
    _until(lambda: _entries(outbox) == [], "the courier emptied the outbox")
    assert server.landed() == EXPECTED
    assert server.uploads() == 1


def test_a_session_killed_after_its_last_test_is_delivered_once_as_interrupted(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(
        """
        import os, signal

        def pytest_sessionfinish(session):
            os.kill(os.getpid(), signal.SIGKILL)  # before tmupload's session end
        """
    )
    session = _session(pytester.path, upload_args(server, outbox))
    out, _ = session.communicate(timeout=PATIENCE)
    assert session.returncode == -signal.SIGKILL, out
    _until(lambda: server.uploads() == 1, "the courier delivered the killed session's run")
    _until(lambda: _entries(outbox) == [], "the courier emptied the outbox")
    assert server.landed() == EXPECTED
    assert server.uploads() == 1
