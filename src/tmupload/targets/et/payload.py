"""RunReport -> the JUnit XML document ET's importer turns into result nodes (pure function).

Shape, chosen so every node maps back to exactly one case:

* one ``<testsuite>`` per case suite (a pytest test file), named by the suite;
* one ``<testcase>`` per case whose ``name`` is unique within its suite (for pytest, the node id
  after the file: ``Class::test[param]``), so the same test name in two classes stays apart;
* names longer than ``MAX_NODE_NAME`` are shortened with a hash of the case id, because the
  server's name column size is not documented (reference §3.9 lists no limit) [inference];
* the outcome elements of the DESIGN §3 table; captured output in ``<system-out>``/``<system-err>``;
  ticket keys as ``<property name="ticket">`` (as pytest's own junitxml writes them).

The server's node hierarchy for a JUnit file is not documented (reference §3.9): the mapping
back therefore keys on (suite, name) and falls back to unique leaf names (see ``nodes.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from tmupload.junit.write import XmlWriter, xml_text
from tmupload.models import CaseResult, Outcome, RunReport

__all__ = ["MAX_NODE_NAME", "EtPayload", "build_payload", "node_name"]

MAX_NODE_NAME = 255


def node_name(case: CaseResult) -> str:
    """The testcase name we send for a case (and expect back as the node's Name)."""
    name = xml_text(case.name)
    if len(name) <= MAX_NODE_NAME:
        return name
    digest = hashlib.sha1(case.case_id.encode("utf-8")).hexdigest()[:12]
    return f"{name[: MAX_NODE_NAME - 16]}… #{digest}"


@dataclass(frozen=True)
class EtPayload:
    """The document to upload and how its (suite, testcase name) pairs map to case ids."""

    xml: bytes
    case_ids: dict[tuple[str, str], str]


def _group(cases: Iterable[CaseResult]) -> dict[str, list[CaseResult]]:
    suites: dict[str, list[CaseResult]] = {}
    for case in cases:
        suites.setdefault(xml_text(case.suite), []).append(case)
    return suites


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
    """Write the run as a JUnit XML document (UTF-8 bytes) plus the name -> case id map."""
    xml = XmlWriter()
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
    case_ids: dict[tuple[str, str], str] = {}
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
        for case in cases:
            name = node_name(case)
            unique = name
            counter = 2
            while (suite, unique) in case_ids:  # only duplicated ids from imported files
                unique = f"{name} #{counter}"
                counter += 1
            case_ids[(suite, unique)] = case.case_id
            _write_case(xml, case, unique)
        xml.end("testsuite")
    xml.end("testsuites")
    return EtPayload(xml=xml.getvalue(), case_ids=case_ids)


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
