"""The plugin object registered on the controller when upload is on.

Hooks only feed the RunBuilder (no network, no files); the one upload happens in
``pytest_sessionfinish``, and ``pytest_terminal_summary`` says what landed or what failed.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import threading
from collections.abc import Generator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tmupload.delivery.outcome import UploadOutcome
from tmupload.delivery.progress import ProgressRelay, UploadProgress
from tmupload.errors import TmUploadError
from tmupload.pytest.fold import RunBuilder
from tmupload.settings import Settings
from tmupload.targets.base import CaseStream
from tmupload.targets.registry import make_target

__all__ = ["ResultCollector"]

# Seconds the tests wait, at most, for the background lookups to finish before they start.
_WAIT_BEFORE_TESTS = 5.0


class ResultCollector:
    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self.builder = RunBuilder(max_output=settings.max_output, xfail_as=settings.xfail_as)
        self.started_at = datetime.now(timezone.utc)
        self.outcome: UploadOutcome | None = None
        self.skipped_reason: str | None = None
        self.interrupted_note: str | None = None
        # Built now so that a setting only the target can check (e.g. a status map) stops the
        # session before the tests run, not after them; and so that it can look up where the
        # run goes while the tests run (the session end then starts with the upload).
        self.progress = ProgressRelay()
        self.target = make_target(settings, progress=self.progress)
        self.description = self.target.describe()
        self._preparing: threading.Thread | None = None
        self.stream: CaseStream | None = None
        if settings.ticket_map is not None:  # a broken map should stop the session up front
            from tmupload.ticket_map import load_ticket_map

            load_ticket_map(settings.ticket_map)

    def pytest_report_header(self, config: pytest.Config) -> str:
        s = self.settings
        mode = "dry run against" if s.dry_run else "uploading to"
        return f"tmupload: {mode} {self.description} (on-error={s.on_error})"

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # What only the session end needs is imported while the tests run, not before them.
        threading.Thread(target=_import_session_end, name="tmupload-imports", daemon=True).start()
        # Each result goes to the target as its test ends, so that the session end does not
        # have to do all the target's work for every result at once. (Opened here: xdist
        # registers its controller after this plugin's configure.)
        open_stream = getattr(self.target, "stream", None)
        if callable(open_stream):
            controller = self.config.pluginmanager.has_plugin("dsession")
            self.stream = open_stream(may_send=controller and not self.settings.dry_run)
        # Every check of the settings has passed by now. The lookups are only a head start:
        # not worth a request when the run could not be spooled anyway.
        prepare = getattr(self.target, "prepare", None)
        if self.settings.dry_run or not callable(prepare):
            return
        if not _could_write(self.settings.outbox):
            return
        self._preparing = threading.Thread(target=prepare, name="tmupload-prepare", daemon=True)
        self._preparing.start()

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, None, None]:
        # Tests running in this process may mock httpx (pytest-httpx patches every transport)
        # and would see our lookups as their own unexpected requests: let them finish first
        # (they overlapped with collection). Under xdist the tests run in other processes.
        if self._preparing is not None and not self.config.pluginmanager.has_plugin("dsession"):
            self._preparing.join(_WAIT_BEFORE_TESTS)
        yield

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.builder.add(report)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        cases = self.builder.finish(nodeid)
        if self.stream is not None:
            for case in cases:
                self.stream.add(case)

    def _make_progress(self) -> UploadProgress:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return UploadProgress(lambda _: None, quiet=True)
        live = bool(getattr(reporter, "isatty", False)) and sys.stdout.isatty()

        def rewrite(line: str) -> None:
            reporter.rewrite(line, erase=True)

        def write_line(line: str) -> None:
            # Under -q the progress dots leave the cursor mid-line: start a line of our own.
            writer = getattr(reporter, "_tw", None)
            if writer is not None and writer.width_of_current_line:
                reporter.write("\n")
            reporter.write_line(line)

        return UploadProgress(
            write_line,
            rewrite if live else None,
            quiet=self.config.option.verbose < 0,
        )

    def _environment(self) -> dict[str, str]:
        workers = getattr(self.config.option, "numprocesses", None)
        env = {
            "python": platform.python_version(),
            "platform": platform.platform(terse=True),
            "pytest": pytest.__version__,
        }
        if workers:
            env["xdist_workers"] = str(workers)
        return env

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # The session holds hundreds of thousands of live objects (items, reports); without a
        # freeze every collection triggered while building and uploading the run walks them
        # all (measured: decoding 10,000 server results took 0.27 s instead of 0.07 s).
        gc.freeze()
        try:
            self._build_and_upload(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
        finally:
            gc.unfreeze()
        if self.outcome is None:
            return
        # The tests' own outcomes are never touched; only a clean exit status becomes 1.
        failed = not self.outcome.ok
        if failed and self.settings.on_error == "fail" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _build_and_upload(self, interrupted: bool) -> None:
        finished_at = datetime.now(timezone.utc)
        name = self.settings.run_name or (
            f"pytest {self.config.rootpath.name} {self.started_at:%Y-%m-%d %H:%M:%S} UTC"
        )
        if interrupted:
            # A partial run must not pass for a whole one, on the server or in the summary.
            name += " (interrupted)"
        run = self.builder.build(
            name=name,
            started_at=self.started_at,
            finished_at=finished_at,
            environment=self._environment(),
        )
        if self.stream is not None:
            self.stream.end()
        if not run.cases:
            self.skipped_reason = "no test ran, so nothing was uploaded"
            return
        if interrupted:
            self.interrupted_note = (
                f"the session was interrupted: the {len(run.cases)} result(s) reported before "
                f"it are uploaded as {name!r} (a test cut short counts as an error)"
            )
        if self._preparing is not None:
            self._preparing.join()  # bounded by the lookup's own time budget
        progress = self._make_progress()
        self.progress.to = progress
        try:
            from tmupload.delivery.pipeline import upload

            self.outcome = upload(
                run,
                self.settings,
                progress=progress,
                target=self.target,
                clean_up_in_background=True,
            )
        except TmUploadError as exc:  # configuration problems found late (e.g. the outbox)
            self.outcome = UploadOutcome(run=run, settings=self.settings, error=exc)
        finally:
            progress.done()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.skipped_reason:
            terminalreporter.write_sep("-", "tmupload")
            terminalreporter.write_line(f"tmupload: {self.skipped_reason}")
            return
        if self.outcome is None:
            return
        failed = not self.outcome.ok and not self.outcome.dry_run
        terminalreporter.write_sep("-", "tmupload", red=failed, bold=failed)
        if self.interrupted_note:
            terminalreporter.write_line(f"tmupload: {self.interrupted_note}", yellow=True)
        from tmupload.delivery.report import summary_lines

        for colour, text in summary_lines(self.outcome):
            markup = {colour: True} if colour else {}
            terminalreporter.write_line(f"tmupload: {text}", **markup)
        if failed and self.settings.on_error == "warn":
            terminalreporter.write_line(
                "tmupload: --tm-on-error=warn: the exit status ignores the failed upload",
                yellow=True,
            )

    @pytest.hookimpl(tryfirst=True)
    def pytest_unconfigure(self, config: pytest.Config) -> None:
        # The summary is written. The run (10,000s of records and their texts) goes now, freed
        # as its references drop, instead of being walked by the interpreter's last garbage
        # collection when the process exits (measured: ~0.4 s at exit for 10,000 tests).
        # First among the unconfigure hooks: pytest's own (unraisableexception) runs a full
        # gc.collect() there, which would otherwise walk these records too.
        self.builder.clear()
        self.outcome = None
        self.stream = None


def _import_session_end() -> None:
    import tmupload.delivery.pipeline
    import tmupload.delivery.report  # noqa: F401


def _could_write(folder: Path) -> bool:
    """Whether ``folder`` exists writable or could be created (nothing is created here)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK)
    return False
