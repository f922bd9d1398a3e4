"""Read JUnit XML from any framework into one RunReport, streaming, with bounded memory.

Each file is read twice, both times as a stream:

1. :func:`validate_junit` proves a file usable before anything is read or sent: the prolog is
   scanned for a DOCTYPE or entity declaration (docs/architecture.md §11: such XML is rejected,
   never parsed), then expat reads the file to its end in chunks, with no tree, to prove it is
   well-formed in its encoding (a report cut short by a crashed CI job is the common case).
   UTF-8 (with or without a byte order mark) and UTF-16 (what Windows PowerShell and .NET tools
   write) are read as they are: expat decodes both, here and in the second pass.
2. :func:`read_junit` reads the files with ``ElementTree.iterparse`` and detaches every
   finished ``<testcase>`` from its parent, so besides the CaseResults only the case being
   read is in memory, whatever the size of the file.

junitparser (``JUnitXml.fromfile``) builds the whole tree before the first case can be read,
and its per-case view on top of this stream measured at about three times the cost of the
parse itself, so the elements are read directly here; ``benchmarks/bench_import.py`` compares
the two.

How the dialects map (each has a real or hand-written sample in ``tests/data/junit/``):

* outcome: no result child -> passed; ``<failure>`` -> failed; ``<error>`` -> error;
  ``<skipped>`` -> skipped, or xfailed when its type is ``pytest.xfail`` (unittest-xml-reporting
  writes ``XFAIL``); no child but ``status="disabled"``/``"notrun"`` (CTest) -> skipped;
* Surefire's ``<flakyFailure>``/``<flakyError>`` and ``<rerunFailure>``/``<rerunError>`` -> one
  Attempt each (a passing case with attempts is flaky);
* pytest writes a call failure and a teardown error of one test as two ``<testcase>`` elements:
  they become one failed case whose details keep the teardown text;
* ids: ``suite::classname::name`` with empty parts left out; ``suite`` joins nested testsuite
  names with " / " (the file stem when there is none), ``name`` is ``classname::name``; a
  classname equal to the name (jest-junit, CTest) or to its suite's own name (Surefire,
  gotestsum, behave) is not repeated; a repeated id is kept under ``id #2``, ``#3``, ...;
* ``<property name="ticket">`` (in the testcase's ``<properties>``, bare, or the testcase
  attribute pytest's ``record_xml_attribute`` writes in xunit1) -> TicketRefs; Jenkins
  ``[[ATTACHMENT|path]]`` lines in the output -> ``attachment`` properties.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from tmupload.junit.model import (
    Duplicate,
    FileSummary,
    ImportResult,
    ProgressCallback,
    ReadProgress,
)
from tmupload.junit.testcase import read_case
from tmupload.junit.validate import validate_junit
from tmupload.junit.values import bad_input, local_name, parse_duration, parse_timestamp
from tmupload.models import CaseResult, Outcome, RunReport, bound

__all__ = [
    "Duplicate",
    "FileSummary",
    "ImportResult",
    "ReadProgress",
    "parse_duration",
    "parse_timestamp",
    "read_junit",
    "validate_junit",
]

_PROGRESS_EVERY = 2000  # cases between two progress events
_ROOTS = {"testsuites", "testsuite"}
_XMLRUNNER_SUFFIX = re.compile(r"-\d{14}$")


class _CountingReader:
    """A binary file that counts what iterparse has read, for progress."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.count += len(data)
        return data


@dataclass
class _Suite:
    parts: tuple[str, ...]  # the names of this suite and those around it
    name: str  # what the cases directly in it get as their ``suite``
    started: datetime | None
    time: float | None
    cases_time: float = 0.0  # used when the suite has no time attribute


class _Reader:
    """Reads files one after another into one list of cases: ids, duplicates, pytest pairs."""

    def __init__(
        self, paths: Sequence[Path], max_output: int, progress: ProgressCallback | None
    ) -> None:
        self.paths = list(paths)
        self.max_output = max_output
        self.progress = progress
        self.cases: list[CaseResult] = []
        self.merged = 0
        self.earliest: datetime | None = None
        self.latest: datetime | None = None
        self.untimed = 0.0  # seconds of top-level suites (and loose cases) without a timestamp
        # case id -> its position in ``cases`` (a plain int: a tuple per case would cost
        # ~80 bytes more for each of a million cases); ``_starts[n]`` is where file n+1 began.
        self._first: dict[str, int] = {}
        self._starts: list[int] = []
        self._merged: set[int] = set()
        self._duplicates: dict[str, list[str]] = {}
        # Suite names and classnames repeat across thousands of cases: keep one copy of each.
        self._strings: dict[str, str] = {}

    def _shared(self, text: str) -> str:
        return self._strings.setdefault(text, text)

    def duplicates(self) -> list[Duplicate]:
        return [Duplicate(case_id, tuple(files)) for case_id, files in self._duplicates.items()]

    # One file --------------------------------------------------------------------------------

    def read_file(self, number: int) -> FileSummary:
        path = self.paths[number - 1]
        counts = {outcome.value: 0 for outcome in Outcome}
        self._starts.append(len(self.cases))
        try:
            size = path.stat().st_size
            with path.open("rb") as handle:
                reader = _CountingReader(handle)
                self._tell(path, number, 0, reader.count, size)
                for read, case in enumerate(self._cases(path, reader), start=1):
                    if self._add(case, number):
                        counts[case.outcome.value] += 1
                    if read % _PROGRESS_EVERY == 0:
                        self._tell(path, number, read, reader.count, size)
        except ElementTree.ParseError as exc:
            line, column = exc.position
            bad_input(
                path,
                f"line {line}, column {column + 1}: ",
                f"not well-formed XML ({exc.msg})",
                "fix or regenerate the report",
            )
        except OSError as exc:
            bad_input(path, "", f"cannot read the file ({exc.strerror or exc})", "check the path")
        total = sum(counts.values())
        self._tell(path, number, total, size, size, done=True)
        return FileSummary(path=path, cases=total, counts=counts)

    def _tell(
        self, path: Path, number: int, cases: int, done_bytes: int, size: int, *, done: bool = False
    ) -> None:
        if self.progress is not None:
            self.progress(
                ReadProgress(path, number, len(self.paths), cases, done_bytes, size, done)
            )

    def _cases(self, path: Path, source: _CountingReader) -> Iterator[CaseResult]:
        """Every testcase of one file, each detached from the tree as soon as it is read."""
        open_elements: list[ElementTree.Element] = []
        suites: list[_Suite] = []
        depth = 0  # > 0 inside a testcase: its children stay until the testcase is read
        for event, element in ElementTree.iterparse(source, events=("start", "end")):
            tag = local_name(element.tag)
            if event == "start":
                if depth or tag == "testcase":
                    depth += 1
                elif tag == "testsuite":
                    suites.append(self._open_suite(element, suites, path))
                open_elements.append(element)
                continue
            open_elements.pop()
            if depth > 1:
                depth -= 1
                continue
            if depth == 1:
                depth = 0
                case = self._case(element, suites[-1] if suites else None, path)
                if suites:
                    suites[-1].cases_time += case.duration
                else:
                    self.untimed += case.duration
                yield case
            elif tag == "testsuite":
                self._close_suite(suites)
            # A finished child of a suite is dropped at once, so no suite accumulates them.
            if open_elements:
                open_elements[-1].remove(element)
            element.clear()

    def _open_suite(self, element: ElementTree.Element, suites: list[_Suite], path: Path) -> _Suite:
        own = _XMLRUNNER_SUFFIX.sub("", (element.get("name") or "").strip())
        parts = (suites[-1].parts if suites else ()) + ((own,) if own else ())
        time_attr = element.get("time")
        return _Suite(
            parts=parts,
            name=self._shared(" / ".join(parts) or path.stem),
            started=parse_timestamp(element.get("timestamp")),
            time=parse_duration(time_attr) if time_attr is not None else None,
        )

    def _close_suite(self, suites: list[_Suite]) -> None:
        suite = suites.pop()
        seconds = suite.time if suite.time is not None else suite.cases_time
        if suites:
            suites[-1].cases_time += seconds
        if suite.started is not None:
            end = suite.started + timedelta(seconds=seconds)
            self.earliest = min(self.earliest or suite.started, suite.started)
            self.latest = max(self.latest or end, end)
        elif not suites:
            self.untimed += seconds

    def _identity(
        self, element: ElementTree.Element, suite: _Suite | None, path: Path
    ) -> tuple[str, str, str, str]:
        """(case id, suite, name, classname) of a testcase."""
        name = element.get("name") or ""
        classname = self._shared(element.get("classname") or "")
        suite_name = suite.name if suite is not None else self._shared(path.stem)
        # A classname that only repeats the name (jest-junit, CTest) or the suite (Surefire,
        # gotestsum, behave) adds nothing to the id or to the node name on the server.
        repeated = classname in (name, suite.parts[-1] if suite and suite.parts else "")
        label = name if repeated or not classname else f"{classname}::{name}"
        label = label or classname or "(unnamed testcase)"
        return f"{suite_name}::{label}", suite_name, label, classname

    def _case(self, element: ElementTree.Element, suite: _Suite | None, path: Path) -> CaseResult:
        case_id, suite_name, label, classname = self._identity(element, suite, path)
        return read_case(
            element,
            case_id=case_id,
            suite=suite_name,
            name=label,
            classname=classname,
            path=path,
            max_output=self.max_output,
        )

    # Merging ---------------------------------------------------------------------------------

    def _add(self, case: CaseResult, number: int) -> bool:
        """Append a case; False when it was folded into an earlier one instead."""
        position = self._first.get(case.case_id)
        if position is None:
            self._first[case.case_id] = len(self.cases)
            self.cases.append(case)
            return True
        first_number = bisect.bisect_right(self._starts, position)
        earlier = self.cases[position]
        if (
            first_number == number
            and position not in self._merged
            and earlier.outcome is Outcome.FAILED
            and case.outcome is Outcome.ERROR
        ):
            # pytest closes the testcase of a failed call and opens a second one for the
            # teardown error (``_pytest/junitxml.py``): one test, one failed case.
            self.cases[position] = self._fold_teardown(earlier, case)
            self._merged.add(position)
            self.merged += 1
            return False
        files = self._duplicates.setdefault(case.case_id, [str(self.paths[first_number - 1])])
        files.append(str(self.paths[number - 1]))
        # Kept under a numbered id: the server needs one node per case id (runs.map_nodes).
        occurrence = len(files)
        unique = f"{case.case_id} #{occurrence}"
        while unique in self._first:
            occurrence += 1
            unique = f"{case.case_id} #{occurrence}"
        self._first[unique] = len(self.cases)
        self.cases.append(replace(case, case_id=unique))
        return True

    def _fold_teardown(self, call: CaseResult, teardown: CaseResult) -> CaseResult:
        details = call.details
        if teardown.details:
            details = f"{details}\n--- error in teardown ---\n{teardown.details}"
        return replace(
            call,
            duration=round(call.duration + teardown.duration, 6),
            details=bound(details, self.max_output),
            # The teardown report carries the output of every phase (as in _builder).
            stdout=teardown.stdout or call.stdout,
            stderr=teardown.stderr or call.stderr,
            tickets=[*call.tickets, *(t for t in teardown.tickets if t not in call.tickets)],
            properties=[
                *call.properties,
                *(p for p in teardown.properties if p not in call.properties),
            ],
        )


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while cases pile up.

    Every case adds a few tracked objects that live to the end, so the collector would
    traverse an ever larger heap again and again: measured at ~45% of the reading time of a
    100,000-case file. What is built here holds no reference cycles, so nothing is lost.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def read_junit(
    paths: Sequence[Path],
    *,
    max_output: int = 65536,
    progress: ProgressCallback | None = None,
    run_name: str | None = None,
    validate: bool = True,
) -> ImportResult:
    """Read JUnit XML files into one run: validate every file first, then stream each.

    ``validate=False`` skips the validation pass for callers that already ran
    :func:`validate_junit` on every path (the command line does, to report all bad files at
    once); a file that turns out malformed while reading still raises InputError.
    """
    paths = [Path(path) for path in paths]
    if validate:
        for path in paths:
            validate_junit(path)
    reader = _Reader(paths, max_output, progress)
    with _no_cycle_collection():
        summaries = [reader.read_file(number) for number in range(1, len(paths) + 1)]
    started = reader.earliest or datetime.now(timezone.utc)
    finished = started + timedelta(seconds=reader.untimed)
    if reader.latest is not None:
        finished = max(finished, reader.latest)
    count = len(paths)
    run = RunReport(
        name=run_name or f"import of {count} file{'s' if count != 1 else ''}",
        started_at=started,
        finished_at=finished,
        cases=reader.cases,
    )
    return ImportResult(
        run=run, duplicates=reader.duplicates(), files=summaries, merged=reader.merged
    )
