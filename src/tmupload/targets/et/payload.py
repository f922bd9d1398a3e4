"""RunReport -> the JUnit XML document ET's importer turns into result nodes, and its upload body.

Shape, chosen so every node maps back to exactly one case:

* one ``<testsuite>`` per case suite (a pytest test file), named by the suite;
* one ``<testcase>`` per case whose ``name`` is unique within its suite (for pytest, the node id
  after the file: ``Class::test[param]``), so the same test name in two classes stays apart;
* names longer than ``MAX_NODE_NAME`` are shortened with a hash of the case id, because the
  server's name column size is not documented (docs/servers/et.md §5.3 lists no limit) [inference];
* the outcome elements of the docs/servers/et.md §9 table; captured output in
  ``<system-out>``/``<system-err>``; ticket keys as ``<property name="ticket">`` (as pytest's own
  junitxml writes them).

The server's node hierarchy for a JUnit file is not documented (docs/servers/et.md §5.3): the
mapping back therefore keys on (suite, name) and falls back to unique leaf names (see ``nodes.py``).

ET takes one document per run, which for a large import is hundreds of megabytes: the
delivery writes it piece by piece to a temporary file (:func:`payload_file`) and sends it from
there (:class:`UploadBody`), so the document is never held in memory; :func:`build_payload`
gives the same bytes in memory (dry runs, tests). The (suite, name) -> case id map is worked
out only when something asks for it (mapping nodes, recognising a run after a lost answer).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from tmupload.junit.write import XmlWriter, xml_text
from tmupload.models import CaseResult, Outcome, RunReport

__all__ = [
    "MAX_NODE_NAME",
    "EtPayload",
    "UploadBody",
    "build_payload",
    "case_fragment",
    "fingerprint",
    "node_name",
    "payload_file",
    "write_payload",
]

MAX_NODE_NAME = 255
_READ_CHUNK = 1 << 20  # bytes read from the payload file at a time while sending


def node_name(case: CaseResult) -> str:
    """The testcase name we send for a case (and expect back as the node's Name)."""
    name = xml_text(case.name)
    if len(name) <= MAX_NODE_NAME:
        return name
    digest = hashlib.sha1(case.case_id.encode("utf-8")).hexdigest()[:12]
    return f"{name[: MAX_NODE_NAME - 16]}… #{digest}"


class EtPayload:
    """The document of a run: its size, where it is, and how its (suite, testcase name) pairs
    map to case ids."""

    def __init__(
        self,
        run: RunReport,
        size: int,
        *,
        xml: bytes | None = None,
        handle: BinaryIO | None = None,
    ) -> None:
        self._run = run
        self.size = size
        self._xml = xml
        self._handle = handle
        self._case_ids: dict[tuple[str, str], str] | None = None

    @property
    def xml(self) -> bytes:
        """The document's bytes (read from its file when it was written to one)."""
        if self._xml is not None:
            return self._xml
        assert self._handle is not None
        self._handle.seek(0)
        return self._handle.read()

    @property
    def case_ids(self) -> dict[tuple[str, str], str]:
        """(suite, testcase name as sent) -> case id, for every case of the document."""
        if self._case_ids is None:
            self._case_ids = {
                (suite, name): case.case_id
                for suite, cases in _group(self._run.cases).items()
                for name, case in _named(cases)
            }
        return self._case_ids

    def body(self, filename: str) -> UploadBody:
        """The upload's request body, read from the payload file each time it is sent."""
        if self._handle is None:
            return UploadBody(io.BytesIO(self.xml), self.size, filename)
        return UploadBody(self._handle, self.size, filename)


class UploadBody:
    """ET's upload body (``multipart/mixed``, docs/servers/et.md §2.10, §5.1; the vendor's cURL
    form), as ``EtApi.upload_results`` frames it, but sent in pieces from the payload file.

    Iterating it yields the whole body from its start, every time (a retried request sends
    it again); ``len()`` is its size, sent as ``Content-Length``.
    """

    def __init__(self, handle: BinaryIO, size: int, filename: str) -> None:
        self.boundary = uuid.uuid4().hex
        self._handle = handle
        self._size = size
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="fileupload"; filename="{filename}"\r\n'
            "Content-Type: text/xml\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode("ascii")
        self._tail = f"\r\n--{self.boundary}--\r\n".encode("ascii")

    @property
    def content_type(self) -> str:
        return f"multipart/mixed; boundary={self.boundary}"

    def __len__(self) -> int:
        return len(self._head) + self._size + len(self._tail)

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        self._handle.seek(0)
        left = self._size
        while left > 0:
            chunk = self._handle.read(min(_READ_CHUNK, left))
            if not chunk:
                raise OSError(f"the payload file ended {left:,} bytes early")
            left -= len(chunk)
            yield chunk
        yield self._tail


def _group(cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    suites: dict[str, list[CaseResult]] = {}
    for case in cases:
        suites.setdefault(xml_text(case.suite), []).append(case)
    return suites


def _named(cases: list[CaseResult]) -> Iterator[tuple[str, CaseResult]]:
    """The cases of one suite with the testcase name each is sent under: a name met before in
    the suite (only duplicated ids from imported files) gets `` #2``, `` #3``, ..."""
    taken: set[str] = set()
    for case in cases:
        name = node_name(case)
        unique = name
        counter = 2
        while unique in taken:
            unique = f"{name} #{counter}"
            counter += 1
        taken.add(unique)
        yield unique, case


def _outcome_element(case: CaseResult) -> tuple[str, str, str] | None:
    """(element, type, message) for a case, or None for a pass."""
    outcome = case.outcome
    if outcome in (Outcome.PASSED, Outcome.XPASSED):
        return None
    if outcome is Outcome.FAILED:
        return ("failure", "pytest.failure", case.message)
    if outcome is Outcome.ERROR:
        return ("error", f"pytest.{case.failed_phase or 'setup'}_error", case.message)
    if outcome is Outcome.XFAILED:
        return ("skipped", "pytest.xfail", case.message)
    return ("skipped", "pytest.skip", case.message)


def build_payload(run: RunReport) -> EtPayload:
    """The run as a JUnit XML document (UTF-8 bytes) in memory, plus the name -> case id map."""
    buffer = io.BytesIO()
    payload = write_payload(run, buffer)
    return EtPayload(run, payload.size, xml=buffer.getvalue())


#: case id -> (:func:`fingerprint` of the case, the name it was written under, its
#: ``<testcase>`` element): pieces written while the tests ran (see stream.py).
Prewritten = Mapping[str, tuple[tuple[Any, ...], str, str]]


@contextlib.contextmanager
def payload_file(
    run: RunReport, folder: Path | None = None, prewritten: Prewritten | None = None
) -> Iterator[EtPayload]:
    """The run's document written to an anonymous temporary file in ``folder`` (the outbox,
    when it exists; else the system's temporary folder), removed when the block ends."""
    where = str(folder) if folder is not None and folder.is_dir() else None
    with tempfile.TemporaryFile(dir=where, prefix=".et-payload-") as handle:
        yield write_payload(run, handle, prewritten)


def fingerprint(case: CaseResult) -> tuple[Any, ...]:
    """Everything :func:`case_fragment` reads of a case (besides the name it is given): a
    piece written earlier is used only while this is still equal."""
    return (
        case.classname,
        case.suite,
        case.duration,
        case.outcome,
        case.message,
        case.details,
        case.stdout,
        case.stderr,
        case.log,
        tuple(ticket.key for ticket in case.tickets),
        tuple((attempt.outcome, attempt.message) for attempt in case.attempts),
        tuple(case.properties),
    )


def case_fragment(case: CaseResult, name: str) -> str:
    """The case's ``<testcase>`` element, as :func:`write_payload` writes it."""
    xml = XmlWriter()
    _write_case(xml, case, name)
    return xml.fragment()


def write_payload(run: RunReport, out: BinaryIO, prewritten: Prewritten | None = None) -> EtPayload:
    """Write the run as a JUnit XML document to ``out``, a piece at a time; a case's element
    written earlier (``prewritten``) is used when the case and its name are unchanged."""
    xml = XmlWriter(out)
    counts = run.counts()
    failures = counts["failed"]
    errors = counts["error"]
    skipped = counts["skipped"] + counts["xfailed"]
    xml.start(
        "testsuites",
        {
            "name": xml_text(run.name),
            "tests": str(len(run.cases)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(skipped),
            "time": f"{(run.finished_at - run.started_at).total_seconds():.3f}",
        },
    )
    timestamp = run.started_at.isoformat(timespec="microseconds")
    for suite, cases in _group(run.cases).items():
        suite_counts = {"failure": 0, "error": 0, "skipped": 0}
        for case in cases:
            element = _outcome_element(case)
            if element is not None:
                suite_counts[element[0]] += 1
        xml.start(
            "testsuite",
            {
                "name": suite,
                "tests": str(len(cases)),
                "failures": str(suite_counts["failure"]),
                "errors": str(suite_counts["error"]),
                "skipped": str(suite_counts["skipped"]),
                "time": f"{sum(case.duration for case in cases):.3f}",
                "timestamp": timestamp,
            },
        )
        for name, case in _named(cases):
            piece = prewritten.get(case.case_id) if prewritten else None
            if piece is not None and piece[1] == name and piece[0] == fingerprint(case):
                xml.raw(piece[2])
            else:
                _write_case(xml, case, name)
            xml.spill()
        xml.end("testsuite")
    xml.end("testsuites")
    xml.close()
    out.flush()
    return EtPayload(run, xml.size, handle=out)


def _write_case(xml: XmlWriter, case: CaseResult, name: str) -> None:
    xml.start(
        "testcase",
        {
            "classname": xml_text(case.classname or case.suite),
            "name": name,
            "time": f"{case.duration:.3f}",
        },
    )
    properties = [("ticket", ticket.key) for ticket in case.tickets]
    if case.attempts:
        properties.append(("attempts", str(len(case.attempts) + 1)))
        properties.append(("flaky", "true" if case.flaky else "false"))
    properties.extend(case.properties)
    if properties:
        xml.start("properties", {})
        for prop_name, value in properties:
            xml.start("property", {"name": xml_text(prop_name), "value": xml_text(value)})
            xml.end("property")
        xml.end("properties")
    element = _outcome_element(case)
    if element is not None:
        tag, kind, message = element
        xml.start(tag, {"type": kind, "message": xml_text(message)})
        if case.details:
            xml.text(xml_text(case.details))
        xml.end(tag)
    stdout = case.stdout
    if case.attempts:
        earlier = "\n".join(
            f"attempt {number}: {attempt.outcome.value}: {attempt.message}"
            for number, attempt in enumerate(case.attempts, start=1)
        )
        stdout = f"[tmupload] earlier attempts:\n{earlier}\n" + stdout
    if case.log:
        stdout = f"{stdout}\n--- captured log ---\n{case.log}" if stdout else case.log
    if stdout:
        xml.start("system-out", {})
        xml.text(xml_text(stdout))
        xml.end("system-out")
    if case.stderr:
        xml.start("system-err", {})
        xml.text(xml_text(case.stderr))
        xml.end("system-err")
    xml.end("testcase")
