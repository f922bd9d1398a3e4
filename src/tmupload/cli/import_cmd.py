"""``tmupload import FILE...``: JUnit XML from any framework, as one run, through the pipeline.

Every input is checked before the first one is read and before the first request (exit 2 with
one message naming each bad file and line; ``--skip-invalid`` goes on without them). The files
are then read into one run and sent exactly as the pytest plugin sends its runs: outbox, dry
run, manifest and ticket links come from ``pipeline.upload``. An import that holds no testcase
at all is refused (exit 2) unless ``--allow-empty``: a test step that ran nothing, or a report
path pointing at the wrong file, would otherwise show on the server as a run that passed.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from tmupload.ci import with_build
from tmupload.cli.common import (
    EXIT_OK,
    EXIT_UPLOAD_FAILED,
    command_spelling,
    print_outcome,
    settings_from_args,
)
from tmupload.errors import InputError
from tmupload.junit.read import ImportResult, ReadProgress, read_junit, validate_junit

__all__ = ["ImportProgress", "add_import_command", "cmd_import", "expand_inputs"]


_GLOB_CHARS = frozenset("*?[")
_SHOWN_DUPLICATES = 10
_SHOWN_EMPTY = 10  # files named in the refusal or the warning when none or some hold no testcase
_LIVE_MIN_BYTES = 1 << 20  # smaller files are read before an updating line would be seen
_LIVE_INTERVAL = 0.2  # seconds between two redraws of the updating line


def add_import_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    add_settings: Callable[[argparse.ArgumentParser], None],
) -> argparse.ArgumentParser:
    """Add ``import`` to the ``tmupload`` subcommands (``cli.build_parser`` calls this)."""
    parser = commands.add_parser(
        "import",
        help="send JUnit XML reports from any test framework to the server as one run",
        description="Send JUnit XML reports (pytest, Surefire, jest, mocha, ctest, Robot, "
        "behave, gotestsum, ...) to the test-management server as one run. Several files, "
        "e.g. one per CI shard, merge into one run. Every file is checked before anything is sent.",
    )
    parser.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="JUnit XML files or glob patterns; quote patterns ('reports/**/*.xml') and "
        "tmupload expands them, the same on every shell",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="leave out files that are not valid JUnit XML (each is reported) instead of "
        "stopping with exit code 2",
    )
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help="send the run even when the files hold no testcase at all (by default that stops "
        "with exit code 2: it usually means the tests did not run)",
    )
    add_settings(parser)
    parser.set_defaults(func=cmd_import)
    return parser


def expand_inputs(items: Sequence[str]) -> list[Path]:
    """Files and glob patterns -> the files, in order, each once.

    Patterns are expanded here rather than by the shell, so a quoted pattern works the same
    in every CI system; ``**`` matches any depth. An existing file is taken literally even
    when its name holds a glob character.
    """
    paths: list[Path] = []
    seen: set[Path] = set()
    for item in items:
        if _GLOB_CHARS.isdisjoint(item) or Path(item).exists():
            matches = [item]
        else:
            matches = sorted(m for m in glob.glob(item, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(
                    f"{item}: no file matches this pattern; check the path and that the tests "
                    "wrote their reports before this step"
                )
        for match in matches:
            key = Path(match).resolve()
            if key not in seen:
                seen.add(key)
                paths.append(Path(match))
    return paths


class ImportProgress:
    """Progress on stderr: plain lines in CI logs, plus one updating line on a terminal."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._clock = clock
        self._drawn_at = float("-inf")
        self._showing = False  # an updating line is on the screen

    def say(self, message: str) -> None:
        """A plain line (also what the pipeline's upload and linking steps print)."""
        self._clear()
        print(f"tmupload: {command_spelling(message)}", file=self.stream, flush=True)

    def read(self, event: ReadProgress) -> None:
        """Reading progress from ``read_junit``."""
        where = f" [{event.file_number}/{event.file_count}]" if event.file_count > 1 else ""
        if event.done:
            plural = "" if event.cases == 1 else "s"
            self.say(f"parsed {event.path}{where} ({event.cases:,} case{plural})")
            return
        if not self.live or event.file_size < _LIVE_MIN_BYTES:
            return
        now = self._clock()
        if now - self._drawn_at < _LIVE_INTERVAL:
            return
        self._drawn_at = now
        percent = min(100, event.bytes_read * 100 // max(event.file_size, 1))
        self.stream.write(
            f"\r\x1b[Ktmupload: reading {event.path}{where} {percent}% ({event.cases:,} cases)"
        )
        self.stream.flush()
        self._showing = True

    def _clear(self) -> None:
        if self._showing:
            self.stream.write("\r\x1b[K")
            self._showing = False


def _check_inputs(paths: list[Path], *, skip_invalid: bool, out: ImportProgress) -> list[Path]:
    """The usable paths; InputError naming every bad one unless they are to be skipped."""
    problems: list[str] = []
    valid: list[Path] = []
    for path in paths:
        try:
            validate_junit(path)
        except InputError as exc:
            problems.append(str(exc))
        else:
            valid.append(path)
    if problems and not skip_invalid:
        raise InputError(_refusal(problems, len(paths)))
    for problem in problems:
        out.say(f"warning: skipping an invalid file: {problem}")
    if not valid:
        raise InputError("no valid JUnit XML file is left to import; nothing was sent")
    return valid


def _refusal(problems: list[str], total: int) -> str:
    others = total - len(problems)
    hint = f", or pass --skip-invalid to import the other {others}" if others else ""
    if len(problems) == 1:
        return f"{problems[0]}\nnothing was sent: fix the file{hint}"
    listed = "\n".join(f"  {problem}" for problem in problems)
    return f"{len(problems)} of {total} files cannot be used:\n{listed}\nnothing was sent{hint}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _listed(paths: Sequence[Path], separator: str) -> str:
    """The paths joined, cut to the first few."""
    shown = [str(path) for path in paths[:_SHOWN_EMPTY]]
    if len(paths) > _SHOWN_EMPTY:
        shown.append(f"... and {len(paths) - _SHOWN_EMPTY} more")
    return separator.join(shown)


def _check_cases(result: ImportResult, *, allow_empty: bool, out: ImportProgress) -> None:
    """InputError when no file holds a testcase (unless allowed); a warning when some hold none.

    A file without testcases among others is a shard that ran nothing, which can be normal;
    but when the whole import is empty the server would record a run with status Passed.
    """
    empty = [summary.path for summary in result.files if summary.cases == 0]
    if not empty:
        return
    cases = len(result.run.cases)
    if cases:
        others = _plural(len(result.files) - len(empty), "file")
        out.say(
            f"warning: no testcase in {_listed(empty, ', ')}; the run has the "
            f"{_plural(cases, 'result')} of the other {others}"
        )
        return
    if allow_empty:
        out.say("no testcase in the input: sending an empty run (--allow-empty)")
        return
    report = "this is the report" if len(empty) == 1 else "these are the reports"
    fix = (
        f"nothing was sent: check that the tests ran and that {report} they wrote (a test "
        "step that collected no tests writes a report without testcases), or pass "
        "--allow-empty to send an empty run"
    )
    if len(empty) == 1:
        raise InputError(f"{empty[0]}: the file holds no testcase\n{fix}")
    listed = _listed(empty, "\n  ")
    raise InputError(f"none of the {len(empty)} files holds a testcase:\n  {listed}\n{fix}")


def _report_inputs(result: ImportResult, out: ImportProgress) -> None:
    if result.merged:
        out.say(
            f"folded {result.merged} teardown error(s) into the failed test they belong to "
            "(pytest writes them as a second testcase)"
        )
    if not result.duplicates:
        return
    out.say(
        f"warning: {len(result.duplicates)} test id(s) appear more than once; every result "
        "is kept, the repeats numbered #2, #3, ...:"
    )
    for duplicate in result.duplicates[:_SHOWN_DUPLICATES]:
        counts = Counter(duplicate.files)
        files = ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items())
        out.say(f"  {duplicate.case_id} ({files})")
    hidden = len(result.duplicates) - _SHOWN_DUPLICATES
    if hidden > 0:
        out.say(f"  ... and {hidden} more")


def cmd_import(args: argparse.Namespace) -> int:
    """Check every input, read them into one run, send it; 0 done, 1 upload failed."""
    from tmupload.delivery.pipeline import upload

    settings, build = with_build(settings_from_args(args), os.environ)
    # Before reading what may be gigabytes: a missing URL or login is exit 2 straight away.
    settings.require_target()
    out = ImportProgress()
    paths = _check_inputs(expand_inputs(args.files), skip_invalid=args.skip_invalid, out=out)
    result = read_junit(
        paths,
        max_output=settings.max_output,
        progress=out.read,
        run_name=settings.run_name,
        validate=False,  # just done, for every file, before reading any
    )
    _check_cases(result, allow_empty=args.allow_empty, out=out)
    _report_inputs(result, out)
    result.run.environment.update(build)
    outcome = upload(result.run, settings, progress=out.say)
    print_outcome(outcome)
    return EXIT_OK if outcome.ok else EXIT_UPLOAD_FAILED
