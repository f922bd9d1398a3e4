"""Read JUnit XML from any framework into one RunReport, streaming, with bounded memory.

Each file is read twice, both times as a stream:

1. :func:`validate_junit` proves a file usable before anything is read or sent: the prolog is
   scanned for a DOCTYPE or entity declaration (DESIGN §4: such XML is rejected, never
   parsed), then expat reads the file to its end in chunks, with no tree, to prove it is UTF-8
   and well-formed (a report cut short by a crashed CI job is the common case).
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

import codecs
import contextlib
import gc
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from tmupload.errors import InputError
from tmupload.models import Attempt, CaseResult, Outcome, RunReport, TicketRef
from tmupload.pytest.fold import bound
from tmupload.tickets import TICKET_LINK_PROPERTY, TICKET_PROPERTY, validate_key

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

_CHUNK = 1 << 20  # bytes read at a time by the validation pass
_PROLOG_LIMIT = 1 << 20  # a prolog (declaration, comments) longer than this is not a report
_MESSAGE_LIMIT = 2000  # as the pytest front end bounds a message
_PROGRESS_EVERY = 2000  # cases between two progress events

_RESULTS = {"failure": Outcome.FAILED, "error": Outcome.ERROR, "skipped": Outcome.SKIPPED}
_INTERIM = {
    "flakyFailure": Outcome.FAILED,
    "flakyError": Outcome.ERROR,
    "rerunFailure": Outcome.FAILED,
    "rerunError": Outcome.ERROR,
}
_XFAIL_TYPES = {"pytest.xfail", "xfail"}
# CTest writes a disabled or not-run test as a testcase with only a status attribute.
_SKIP_STATUSES = {"disabled", "notrun", "skipped", "untested"}
_ROOTS = {"testsuites", "testsuite"}
_TICKET_ATTRIBUTES = (TICKET_PROPERTY, TICKET_LINK_PROPERTY)

_NAME = re.compile(rb"[A-Za-z_:][-A-Za-z0-9_:.]*")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(,\d{3})+$")
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)
_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]\r\n]+)\]\]")
# unittest-xml-reporting appends the run's time to every suite name ("Class-20261123073227"),
# which would give the same test a new id on every run.
_XMLRUNNER_SUFFIX = re.compile(r"-\d{14}$")
_PYTEST_PHASE = re.compile(r"^failed on (setup|teardown) with ")


@dataclass(frozen=True)
class Duplicate:
    """A case id met more than once: every file it came from, in reading order."""

    case_id: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class FileSummary:
    """What one file contributed to the run."""

    path: Path
    cases: int
    counts: dict[str, int]


@dataclass
class ImportResult:
    """The merged run plus what a user should hear about the inputs."""

    run: RunReport
    duplicates: list[Duplicate] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)
    merged: int = 0  # pytest call-failure + teardown-error pairs folded into one case


@dataclass(frozen=True)
class ReadProgress:
    """Where reading stands, sent at the start and end of each file and every few cases."""

    path: Path
    file_number: int  # 1-based
    file_count: int
    cases: int  # cases read from this file so far
    bytes_read: int
    file_size: int
    done: bool = False


ProgressCallback = Callable[[ReadProgress], None]


# --- values ---------------------------------------------------------------------------------


def parse_duration(text: str | None) -> float:
    """Seconds from a ``time`` attribute: missing or garbage -> 0, ``1,234.5`` -> 1234.5.

    A comma is a thousands separator when the value also has a point or is grouped in threes
    (Surefire formats with the JVM locale); otherwise it is a decimal comma (``0,25``).
    """
    if not text:
        return 0.0
    value = text.strip()
    if "," in value:
        thousands = "." in value or _THOUSANDS.match(value)
        value = value.replace(",", "") if thousands else value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) and number >= 0 else 0.0


def parse_timestamp(text: str | None) -> datetime | None:
    """An ISO 8601 ``timestamp`` attribute as an aware datetime, or None when unreadable.

    Without an offset the time is taken as UTC: jest-junit writes UTC that way, and CI runners
    mostly run in UTC [inference: JUnit's schema does not say].
    """
    match = _TIMESTAMP.match(text.strip()) if text else None
    if match is None:
        return None
    day, clock, fraction, offset = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    micros = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if offset is None or offset.upper() == "Z" else offset
    if len(zone) == 5:  # +0200
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micros}{zone}")
    except ValueError:
        return None


def _local(tag: str) -> str:
    """The tag without a namespace (``{uri}testcase`` -> ``testcase``)."""
    return tag if tag[0] != "{" else tag[tag.rfind("}") + 1 :]


# --- validation -----------------------------------------------------------------------------


def _fail(path: Path, where: str, problem: str, fix: str) -> NoReturn:
    raise InputError(f"{path}: {where}{problem}; {fix}")


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def validate_junit(path: Path) -> None:
    """Raise InputError (file, line, problem, fix) unless ``path`` is a usable JUnit XML file.

    Checks, in this order and without building a tree: readable; not UTF-16/32; no DOCTYPE or
    entity declaration in the prolog; an XML root element named testsuites or testsuite; valid
    UTF-8 (when the file does not declare another encoding) and well-formed to the end.
    """
    try:
        with path.open("rb") as handle:
            head, encoding = _check_prolog(path, handle)
            _check_body(path, handle, head, encoding)
    except OSError as exc:
        _fail(path, "", f"cannot read the file ({exc.strerror or exc})", "check the path")


def _check_prolog(path: Path, handle: BinaryIO) -> tuple[bytes, str]:
    """Read until the root element starts; return the bytes read and the declared encoding."""
    data = handle.read(_CHUNK)
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            _fail(
                path,
                "line 1: ",
                f"the file is {name}-encoded",
                f"tmupload reads UTF-8 reports: convert it, e.g. iconv -f {name} -t UTF-8",
            )
    eof = not data
    while True:
        encoding = _scan_prolog(path, data, eof=eof)
        if encoding is not None:
            return data, encoding
        if len(data) >= _PROLOG_LIMIT:
            _fail(
                path,
                "",
                f"no root element in the first {_PROLOG_LIMIT:,} bytes",
                "this is not a JUnit XML report: pass the report your test runner wrote",
            )
        more = handle.read(_CHUNK)
        eof = not more
        data += more


def _scan_prolog(path: Path, data: bytes, *, eof: bool) -> str | None:
    """The declared encoding once the root element is found; None when more bytes are needed.

    Only a declaration, processing instructions, comments and whitespace may come before the
    root; a DOCTYPE (and with it any entity declaration) can only appear here, so refusing it
    here keeps entity expansion out of every later parse.
    """
    pos = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    encoding = "utf-8"
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if pos >= len(data):
            if not eof:
                return None
            if not data.strip():
                _fail(
                    path,
                    "",
                    "the file is empty",
                    "the test run probably stopped before writing its report: re-run it, "
                    "or leave the file out (--skip-invalid)",
                )
            _fail(
                path,
                f"line {_line_of(data, pos)}: ",
                "the file ends before its root element (truncated?)",
                "regenerate the report",
            )
        if data.startswith((b"<?", b"<!--"), pos):
            closing = b"?>" if data.startswith(b"<?", pos) else b"-->"
            end = data.find(closing, pos + 2)
            if end < 0:
                if eof:
                    _fail(
                        path,
                        f"line {_line_of(data, pos)}: ",
                        "the file ends inside its prolog (truncated?)",
                        "regenerate the report",
                    )
                return None
            if data.startswith(b"<?xml", pos) and pos <= 3:
                declared = _ENCODING.search(data, pos, end)
                if declared:
                    encoding = declared.group(1).decode("ascii").lower()
            pos = end + len(closing)
        elif data.startswith(b"<!", pos):
            if len(data) - pos < 9 and not eof:
                return None
            _refuse_declaration(path, data, pos)
        elif data.startswith(b"<", pos):
            name = _NAME.match(data, pos + 1)
            if name is None or name.end() >= len(data):
                if not eof and (name is not None or pos + 1 >= len(data)):
                    return None
                _not_xml(path, data, pos)
            _check_root(path, data, pos, name.group().decode("ascii"))
            return encoding
        else:
            _not_xml(path, data, pos)


def _refuse_declaration(path: Path, data: bytes, pos: int) -> NoReturn:
    line = f"line {_line_of(data, pos)}: "
    fix = (
        "JUnit reports never need one: remove the <!DOCTYPE ...> block (tmupload refuses DTDs "
        "and entities, which can expand to gigabytes or pull in local files)"
    )
    if data[pos : pos + 9].upper() == b"<!DOCTYPE":
        subset_end = data.find(b"]>", pos)
        entity = data.find(b"<!ENTITY", pos, subset_end if subset_end >= 0 else len(data))
        if entity >= 0:
            _fail(path, f"line {_line_of(data, entity)}: ", "the file declares an entity", fix)
        _fail(path, line, "the file declares a DOCTYPE", fix)
    if data.startswith(b"<!ENTITY", pos):
        _fail(path, line, "the file declares an entity", fix)
    _fail(path, line, "markup declaration before the root element", "remove it")


def _not_xml(path: Path, data: bytes, pos: int) -> NoReturn:
    snippet = data[pos : pos + 20].decode("utf-8", "replace")
    _fail(
        path,
        f"line {_line_of(data, pos)}: ",
        f"not an XML file (it starts with {snippet!r})",
        "pass the JUnit XML report your test runner wrote (e.g. --junitxml=report.xml)",
    )


def _check_root(path: Path, data: bytes, pos: int, name: str) -> None:
    if _local(name.rpartition(":")[2]) not in _ROOTS:
        _fail(
            path,
            f"line {_line_of(data, pos)}: ",
            f"the root element is <{name}>, not <testsuites> or <testsuite>",
            "this is not a JUnit XML report: pass the report your test runner wrote",
        )


class _Utf8Check:
    """Proves chunk after chunk is UTF-8, tracking lines so an error can name its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.carry = b""  # an incomplete sequence at the end of the previous chunk
        self.lines = 1  # line number at carry[0]
        self.column = 1  # byte column at carry[0]

    def feed(self, chunk: bytes, *, final: bool) -> None:
        data = self.carry + chunk
        try:
            data.decode("utf-8")
            good = len(data)
        except UnicodeDecodeError as exc:
            tail = exc.reason == "unexpected end of data" and len(data) - exc.start < 4
            if final or not tail:
                self._report(data, exc.start)
            good = exc.start
        self._advance(data, good)
        self.carry = data[good:]

    def _advance(self, data: bytes, good: int) -> None:
        newlines = data.count(b"\n", 0, good)
        if newlines:
            self.lines += newlines
            self.column = good - data.rfind(b"\n", 0, good)
        else:
            self.column += good

    def _report(self, data: bytes, bad: int) -> NoReturn:
        self._advance(data, bad)
        _fail(
            self.path,
            f"line {self.lines}, column {self.column}: ",
            f"invalid UTF-8 (byte 0x{data[bad]:02x})",
            "write the report as UTF-8 or convert it, e.g. iconv -f ISO-8859-1 -t UTF-8",
        )


def _check_body(path: Path, handle: BinaryIO, head: bytes, encoding: str) -> None:
    """Parse the whole file with expat, building nothing, to prove it well-formed."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        # Unreachable after the prolog scan; kept so that no later change can let one through.
        _fail(
            path,
            f"line {parser.CurrentLineNumber}: ",
            "the file declares a DOCTYPE or an entity",
            "remove it: tmupload refuses DTDs and entities",
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    utf8 = _Utf8Check(path) if encoding in ("utf-8", "utf8") else None
    chunk = head
    while chunk:
        if utf8 is not None:
            utf8.feed(chunk, final=False)
        try:
            parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            _malformed(path, exc, at_end=False)
        chunk = handle.read(_CHUNK)
    if utf8 is not None:
        utf8.feed(b"", final=True)
    try:
        # Everything so far was well-formed: an error now means the input stopped too soon.
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        _malformed(path, exc, at_end=True)


def _malformed(path: Path, exc: expat.ExpatError, *, at_end: bool) -> NoReturn:
    where = f"line {exc.lineno}, column {exc.offset + 1}: "
    if at_end:
        _fail(
            path,
            where,
            "the file ends before the XML is complete (truncated?)",
            "the test run or the artefact upload was cut short: regenerate the report",
        )
    _fail(
        path,
        where,
        f"not well-formed XML ({expat.ErrorString(exc.code)})",
        "fix or regenerate the report",
    )


# --- reading --------------------------------------------------------------------------------


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


@dataclass
class _CaseParts:
    """What one ``<testcase>`` element says, before it becomes a CaseResult."""

    results: list[ET.Element] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    properties: list[tuple[str, str]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def _message(element: ET.Element) -> str:
    """One line, as the pytest front end keeps: the message attribute, the text, or the type."""
    message = _first_line(element.get("message")) or _first_line(element.text)
    return bound(message or element.get("type") or "", _MESSAGE_LIMIT)


def _read_parts(case: ET.Element) -> _CaseParts:
    parts = _CaseParts()
    for child in case:
        tag = _local(child.tag)
        if tag in _RESULTS:
            parts.results.append(child)
        elif tag in _INTERIM:
            parts.attempts.append(
                Attempt(
                    outcome=_INTERIM[tag],
                    message=_message(child),
                    duration=parse_duration(child.get("time")),
                )
            )
        elif tag == "properties":
            parts.properties.extend(
                _property(item) for item in child if _local(item.tag) == "property"
            )
        elif tag == "property":
            parts.properties.append(_property(child))
        elif tag == "system-out":
            parts.stdout.append(child.text or "")
        elif tag == "system-err":
            parts.stderr.append(child.text or "")
    # pytest's record_xml_attribute (xunit1) writes extra values as testcase attributes.
    for name in _TICKET_ATTRIBUTES:
        value = case.get(name)
        if value is not None:
            parts.properties.append((name, value))
    return parts


def _property(element: ET.Element) -> tuple[str, str]:
    value = element.get("value")
    return element.get("name") or "", value if value is not None else (element.text or "")


def _split_tickets(
    properties: list[tuple[str, str]], path: Path, case_id: str
) -> tuple[list[TicketRef], list[tuple[str, str]]]:
    """Ticket keys (validated as marker keys are) and the other properties."""
    if not properties:
        return [], []
    where = f"{path}: testcase {case_id!r}"
    keys: list[str] = []
    system: str | None = None
    others: list[tuple[str, str]] = []
    for name, value in properties:
        if name == TICKET_PROPERTY:
            # One key per property, as pytest writes them; "PAY-17, PAY-18" is accepted too.
            raw_keys = [item for item in value.split(",") if item.strip()] or [value]
            for raw in raw_keys:
                key = validate_key(raw, where)
                if key not in keys:
                    keys.append(key)
        elif name == TICKET_LINK_PROPERTY:
            system = value.strip()
            if not system:
                raise InputError(
                    f"{where}: property {TICKET_LINK_PROPERTY} is empty; give the name or id "
                    "of the defect tracker link, or leave the property out"
                )
        else:
            others.append((name, value))
    return [TicketRef(key=key, external_system_link=system) for key in keys], others


def _outcome(case: ET.Element, results: list[ET.Element]) -> tuple[Outcome, str, str | None]:
    """(outcome, message, failed phase) from the first result element or the status."""
    if not results:
        status = (case.get("status") or "").strip().lower()
        if status in _SKIP_STATUSES:
            return Outcome.SKIPPED, status, None
        return Outcome.PASSED, "", None
    first = results[0]
    tag = _local(first.tag)
    message = _message(first)
    if tag == "skipped":
        xfail = (first.get("type") or "").lower() in _XFAIL_TYPES
        return (Outcome.XFAILED if xfail else Outcome.SKIPPED), message, None
    if tag == "failure":
        return Outcome.FAILED, message, "call"
    phase = _PYTEST_PHASE.match(message)
    return Outcome.ERROR, message, phase.group(1) if phase else None


def _attachments(*outputs: str) -> list[tuple[str, str]]:
    """Jenkins' JUnit Attachments plugin convention: ``[[ATTACHMENT|path]]`` output lines."""
    return [
        ("attachment", match.group(1).strip())
        for text in outputs
        if "[[ATTACHMENT|" in text
        for match in _ATTACHMENT.finditer(text)
    ]


def _details(results: list[ET.Element]) -> str:
    texts = []
    for number, element in enumerate(results):
        text = (element.text or "").strip("\n")
        if number and text:
            text = f"--- {_local(element.tag)} ---\n{text}"
        if text:
            texts.append(text)
    return "\n".join(texts)


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
        self._first: dict[str, tuple[int, int]] = {}  # case id -> (file number, position)
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
        except ET.ParseError as exc:
            line, column = exc.position
            _fail(
                path,
                f"line {line}, column {column + 1}: ",
                f"not well-formed XML ({exc.msg})",
                "fix or regenerate the report",
            )
        except OSError as exc:
            _fail(path, "", f"cannot read the file ({exc.strerror or exc})", "check the path")
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
        open_elements: list[ET.Element] = []
        suites: list[_Suite] = []
        depth = 0  # > 0 inside a testcase: its children stay until the testcase is read
        for event, element in ET.iterparse(source, events=("start", "end")):
            tag = _local(element.tag)
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

    def _open_suite(self, element: ET.Element, suites: list[_Suite], path: Path) -> _Suite:
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
        self, element: ET.Element, suite: _Suite | None, path: Path
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

    def _case(self, element: ET.Element, suite: _Suite | None, path: Path) -> CaseResult:
        case_id, suite_name, label, classname = self._identity(element, suite, path)
        duration = parse_duration(element.get("time"))
        if not len(element) and not any(element.get(name) for name in _TICKET_ATTRIBUTES):
            # Most cases of a large report pass and have no children: the short way.
            outcome, message, _ = _outcome(element, [])
            return CaseResult(
                case_id=case_id,
                suite=suite_name,
                name=label,
                classname=classname,
                outcome=outcome,
                duration=duration,
                message=message,
            )
        parts = _read_parts(element)
        outcome, message, phase = _outcome(element, parts.results)
        tickets, properties = _split_tickets(parts.properties, path, case_id)
        stdout = "\n".join(parts.stdout)
        stderr = "\n".join(parts.stderr)
        if stdout or stderr:
            properties.extend(_attachments(stdout, stderr))
        limit = self.max_output
        return CaseResult(
            case_id=case_id,
            suite=suite_name,
            name=label,
            classname=classname,
            outcome=outcome,
            duration=duration,
            message=message,
            details=bound(_details(parts.results), limit) if parts.results else "",
            stdout=bound(stdout, limit),
            stderr=bound(stderr, limit),
            failed_phase=phase,
            attempts=parts.attempts,
            tickets=tickets,
            properties=properties,
        )

    # Merging ---------------------------------------------------------------------------------

    def _add(self, case: CaseResult, number: int) -> bool:
        """Append a case; False when it was folded into an earlier one instead."""
        first = self._first.get(case.case_id)
        if first is None:
            self._first[case.case_id] = (number, len(self.cases))
            self.cases.append(case)
            return True
        first_number, position = first
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
        self._first[unique] = (number, len(self.cases))
        self.cases.append(case.model_copy(update={"case_id": unique}))
        return True

    def _fold_teardown(self, call: CaseResult, teardown: CaseResult) -> CaseResult:
        details = call.details
        if teardown.details:
            details = f"{details}\n--- error in teardown ---\n{teardown.details}"
        return call.model_copy(
            update={
                "duration": round(call.duration + teardown.duration, 6),
                "details": bound(details, self.max_output),
                # The teardown report carries the output of every phase (as in _builder).
                "stdout": teardown.stdout or call.stdout,
                "stderr": teardown.stderr or call.stderr,
                "tickets": call.tickets + [t for t in teardown.tickets if t not in call.tickets],
                "properties": call.properties
                + [p for p in teardown.properties if p not in call.properties],
            }
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
