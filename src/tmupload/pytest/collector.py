"""The plugin object registered on the controller when upload is on.

This process only writes, as ``--junitxml`` does: each finished test becomes its record and is
appended to the run's outbox entry (``delivery/entry_writer.py``) as the test ends. A courier
process (``delivery/courier.py``), started once the settings are valid, does everything that
talks to the server — the lookups at once, the results as the entry grows, the rest once it is
complete — so the tests never wait for the server, a test that mocks httpx never sees our
requests, and a Ctrl-C while the session end waits never loses the run. The session end
completes the entry, shows the courier's progress on a line of its own, and prints the
summary the courier sends back.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tmupload.ci import with_build
from tmupload.delivery.entry_writer import EntryWriter
from tmupload.delivery.outbox import Outbox
from tmupload.delivery.progress import UploadProgress
from tmupload.hints import command_hint
from tmupload.pytest.courier_link import CourierLink
from tmupload.pytest.fold import RunBuilder
from tmupload.settings import Settings
from tmupload.targets.registry import get_spec, load_attribute, make_target

__all__ = ["ResultCollector"]

#: Seconds a Ctrl-C after the last test is held for the waiting to begin; a Ctrl-C later than
#: that, the waiting still not begun, interrupts whatever holds the session up.
HELD_FOR = 5.0


class ResultCollector:
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        # The CI's run key and build, where the settings do not say them (see ci.py).
        settings, self.build = with_build(settings, os.environ)
        self.settings = settings
        self.builder = RunBuilder(
            max_output=settings.max_output,
            xfail_as=settings.xfail_as,
            ids_escaped=not _id_escaping_disabled(config),
        )
        self.started_at = datetime.now(timezone.utc)
        # A setting only the target can check (e.g. a status map) stops the session before
        # the tests run, not after them; without importing the target's client.
        self.description = _preflight(settings)
        if settings.ticket_map is not None:  # a broken map should stop the session up front
            from tmupload.ticket_map import load_ticket_map

            load_ticket_map(settings.ticket_map)
        self.writer: EntryWriter | None = None
        self.courier: CourierLink | None = None
        self.lines: list[tuple[str, str]] = []  # the summary, as the courier sent it
        self.ok: bool | None = None
        self.notes: list[str] = []
        self.problem: str | None = None  # the run could not be spooled or delivered
        self.detached = False  # the first Ctrl-C stopped the waiting
        self._pressed_at: float | None = None  # a Ctrl-C after the tests, before the waiting
        self._waiting = False
        self._previous_handler: Any = None  # SIGINT's handler while the tests ran
        self.skipped_reason: str | None = None
        self.interrupted_note: str | None = None
        self._scratch: Path | None = None  # a dry run's outbox, thrown away at the end
        self._made_outbox = False

    def pytest_report_header(self, config: pytest.Config) -> str:
        s = self.settings
        if s.defer:
            return f"tmupload: spooling for {self.description}, to send later (--tm-defer)"
        mode = "dry run against" if s.dry_run else "uploading to"
        return f"tmupload: {mode} {self.description} (on-error={s.on_error})"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        outbox = self.settings.outbox.resolve()
        if self.settings.dry_run:  # a question about an upload: the outbox is not touched
            outbox = self._scratch = Path(tempfile.mkdtemp(prefix="tmupload-dry-run-"))
        self._made_outbox = not outbox.exists()
        try:
            self.writer = Outbox(outbox).open(
                self.settings, name=self._run_name(), started_at=self.started_at
            )
        except OSError as exc:
            self.problem = (
                f"cannot write the outbox {outbox} ({exc.strerror or exc}); nothing was sent — "
                f"point {self.settings.flag('outbox')} (TMUPLOAD_OUTBOX) at a "
                "writable directory"
            )
            return
        if not self.settings.defer:
            self.courier = CourierLink.start(self.settings, self.writer.folder)

    def _run_name(self) -> str:
        if self.settings.run_name:
            return self.settings.run_name
        build = f" build {self.settings.build}" if self.settings.build else ""
        return f"pytest {self.config.rootpath.name} {self.started_at:%Y-%m-%d %H:%M:%S} UTC{build}"

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        try:
            return (yield)
        finally:
            self._hold_interrupts()

    def _hold_interrupts(self) -> None:
        """From the last test on, a Ctrl-C means "stop waiting for the upload": one that
        comes before the waiting begins (while xdist stops its workers, or other plugins
        end the session) is kept for it instead of breaking into their code as a
        traceback, and the waiting then stops at once."""
        if self.courier is None or threading.current_thread() is not threading.main_thread():
            return

        def on_interrupt(signum: int, frame: object) -> None:
            if self._waiting:
                raise KeyboardInterrupt
            now = time.monotonic()
            if self._pressed_at is not None and now - self._pressed_at > HELD_FOR:
                # The waiting never began: something before it is stuck (another plugin's
                # session end), and a Ctrl-C must still be able to stop that.
                self._release_interrupts()
                raise KeyboardInterrupt
            if self._pressed_at is None:
                self._pressed_at = now

        self._previous_handler = signal.signal(signal.SIGINT, on_interrupt)

    def _release_interrupts(self) -> None:
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.builder.add(report)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        cases = self.builder.take(nodeid)
        if self.writer is not None:
            for case in cases:
                self.writer.add(case)

    def _environment(self) -> dict[str, str]:
        workers = getattr(self.config.option, "numprocesses", None)
        env = {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "pytest": pytest.__version__,
        }
        if workers:
            env["xdist_workers"] = str(workers)
        env.update(self.build)
        return env

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        try:
            self._finish(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        finally:
            if not self.detached:
                self._release_interrupts()
        if self.ok is None and self.problem is None:
            return  # nothing ran, or the waiting was stopped: the tests' status stands
        # The tests' own outcomes are never touched; only a clean exit status becomes 1.
        if not self.ok and self.settings.on_error == "fail" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _finish(self, interrupted: bool) -> None:
        writer, courier = self.writer, self.courier
        if writer is None:
            return
        for case in self.builder.unfinished():  # cut short by an interrupt: errors
            writer.add(case)
        if writer.count == 0:
            self.skipped_reason = "no test ran, so nothing was uploaded"
            if courier is not None:
                courier.stop()
            writer.close()
            shutil.rmtree(writer.folder, ignore_errors=True)
            if self._made_outbox:  # made for this session only: leave no trace
                with contextlib.suppress(OSError):
                    writer.folder.parent.rmdir()
            return
        name = writer.finish(
            interrupted=interrupted,
            finished_at=datetime.now(timezone.utc),
            environment=self._environment(),
        )
        if interrupted:
            # A partial run must not pass for a whole one, on the server or in the summary.
            self.interrupted_note = (
                f"the session was interrupted: {_results(writer.count)} reported before "
                f"it are uploaded as {name!r} (a test cut short counts as an error)"
            )
        if courier is None:  # --tm-defer: spooled, to be sent by tmupload send
            from tmupload.delivery.report import deferred_lines

            self.lines = deferred_lines(writer.count, writer.folder, self.settings, writer.notes)
            return
        courier.complete(writer.notes)
        self._wait(courier)

    def _wait(self, courier: CourierLink) -> None:
        """Show the courier's progress and keep its outcome; the first Ctrl-C stops the
        waiting (the courier goes on), and from then on Ctrl-C changes nothing."""
        progress = self._make_progress()
        try:
            self._waiting = True
            if self._pressed_at is not None:
                raise KeyboardInterrupt  # pressed after the last test: do not start waiting
            for message in courier.messages():
                if "progress" in message:
                    progress(str(message["progress"]))
                elif "trouble" in message:
                    progress.trouble(str(message["trouble"]))
                elif "outcome" in message:
                    outcome = message["outcome"]
                    self.ok = bool(outcome.get("ok"))
                    self.lines = [(str(c), str(t)) for c, t in outcome.get("lines", [])]
            courier.close()
            if self.ok is None:
                code = courier.process.returncode
                self.problem = (
                    f"the upload stopped without a word (courier exit status {code}); the run "
                    f"is kept in {self.writer.folder if self.writer else 'the outbox'}"
                )
        except KeyboardInterrupt:
            self._ignore_further_interrupts()
            self.detached = True
            courier.leave_running()
        finally:
            self._waiting = False
            progress.done()

    def _ignore_further_interrupts(self) -> None:
        # For the rest of the process: pytest's own unconfigure (a gc.collect) and the exit
        # still run, and a second Ctrl-C there would be a traceback. Not restored: the
        # process ends.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _make_progress(self) -> UploadProgress:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return UploadProgress(lambda _: None, quiet=True)
        writer = getattr(reporter, "_tw", None)
        live = bool(getattr(reporter, "isatty", False)) and writer is not None

        ours = [False]  # whether the cursor is on a line of our own

        def fresh_line() -> None:
            # pytest's progress line (``....F [100%]``) ends where the cursor is: never
            # write over it — our line starts below it, and then updates in place.
            if not ours[0] and writer is not None and writer.width_of_current_line:
                reporter.write("\n")
            ours[0] = True

        def rewrite(line: str) -> None:
            fresh_line()
            reporter.rewrite(line, erase=True)

        def write_line(line: str) -> None:
            fresh_line()
            reporter.write_line(line)

        return UploadProgress(
            write_line,
            rewrite if live else None,
            quiet=self.config.option.verbose < 0,
        )

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.skipped_reason:
            terminalreporter.write_sep("-", "tmupload")
            terminalreporter.write_line(f"tmupload: {self.skipped_reason}")
            return
        if self.writer is None and self.problem is None:
            return
        failed = self.problem is not None or (self.ok is False and not self.settings.dry_run)
        terminalreporter.write_sep("-", "tmupload", red=failed, bold=failed)
        if self.interrupted_note:
            terminalreporter.write_line(f"tmupload: {self.interrupted_note}", yellow=True)
        if self.detached:
            self._say_detached(terminalreporter)
            return
        for colour, text in self.lines:
            markup = {colour: True} if colour else {}
            terminalreporter.write_line(f"tmupload: {text}", **markup)
        if "run_key" in self.settings.given and not self.settings.defer and self._one_run_each():
            terminalreporter.write_line(
                f"tmupload: run key {self.settings.run_key}: this session's run went on its own; "
                "for one run from every shard, spool them with --tm-defer and send them with "
                f"{command_hint('send', self.settings.outbox.resolve())} (README: CI: one run "
                "from many shards)",
                yellow=True,
            )
        if self.problem is not None:
            terminalreporter.write_line(f"tmupload: upload FAILED: {self.problem}", red=True)
            terminalreporter.write_line(f"tmupload: send it again with: {self._resend()}")
        if failed and self.settings.on_error == "warn":
            terminalreporter.write_line(
                "tmupload: --tm-on-error=warn: the exit status ignores the failed upload",
                yellow=True,
            )

    def _one_run_each(self) -> bool:
        """Whether a live upload makes a run of its own on this server, whatever the run key
        (Enterprise Tester: a run per import; Zephyr: a phase per upload). On qTest shards
        land in the same cycle."""
        return get_spec(self.settings.target).run_per_upload

    def _resend(self) -> str:
        target = self.settings.target if "target" in self.settings.given else None
        return command_hint("resend", self.settings.outbox.resolve(), target)

    def _say_detached(self, terminalreporter: pytest.TerminalReporter) -> None:
        pid = self.courier.pid if self.courier is not None else "?"
        folder = self.writer.folder if self.writer is not None else self.settings.outbox
        terminalreporter.write_line(
            f"tmupload: stopped waiting; the upload goes on in the background (process {pid}) "
            f"and the run stays in {folder} until it has landed — see it with: "
            f"{command_hint('outbox', self.settings.outbox.resolve())}; if it is still there "
            f"once that process has ended, send it with: {self._resend()}",
            yellow=True,
        )

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        self.builder.clear()
        if self._scratch is not None and not self.detached:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _results(count: int) -> str:
    return "the 1 result" if count == 1 else f"the {count} results"


def _preflight(settings: Settings) -> str:
    spec = get_spec(settings.target)
    if spec.preflight is None:
        return make_target(settings).describe()
    check: Callable[[Settings], str] = load_attribute(spec.preflight)
    return check(settings)


def _id_escaping_disabled(config: pytest.Config) -> bool:
    """Whether the session keeps non-ASCII parameter ids as they are (pytest's ini option):
    then a node id holds no escapes to undo."""
    try:
        return bool(
            config.getini("disable_test_id_escaping_and_forfeit_all_rights_to_community_support")
        )
    except ValueError:  # an ini option unknown to this pytest
        return False
