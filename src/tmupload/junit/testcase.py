"""Reading one ``<testcase>`` element: its outcome, attempts, output, tickets and properties."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from tmupload.errors import InputError
from tmupload.junit.values import local_name, parse_duration
from tmupload.models import Attempt, CaseResult, Outcome, TicketRef, bound
from tmupload.properties import ATTACHMENT_PROPERTY
from tmupload.tickets import TICKET_LINK_PROPERTY, TICKET_PROPERTY, validate_key

__all__ = ["read_case"]

_MESSAGE_LIMIT = 2000  # as the pytest front end bounds a message
_RESULTS = {"failure": Outcome.FAILED, "error": Outcome.ERROR, "skipped": Outcome.SKIPPED}
_INTERIM = {
    "flakyFailure": Outcome.FAILED,
    "flakyError": Outcome.ERROR,
    "rerunFailure": Outcome.FAILED,
    "rerunError": Outcome.ERROR,
}
_XFAIL_TYPES = {"pytest.xfail", "xfail"}
_SKIP_STATUSES = {"disabled", "notrun", "skipped", "untested"}
_TICKET_ATTRIBUTES = (TICKET_PROPERTY, TICKET_LINK_PROPERTY)
_ATTACHMENT = re.compile(r"\[\[ATTACHMENT\|([^\]\r\n]+)\]\]")
_PYTEST_PHASE = re.compile(r"^failed on (setup|teardown) with ")


@dataclass
class _CaseParts:
    """What one ``<testcase>`` element says, before it becomes a CaseResult."""

    results: list[ElementTree.Element] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    properties: list[tuple[str, str]] = field(default_factory=list)
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


def _first_line(text: str | None) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def _message(element: ElementTree.Element) -> str:
    """One line, as the pytest front end keeps: the message attribute, the text, or the type."""
    message = _first_line(element.get("message")) or _first_line(element.text)
    return bound(message or element.get("type") or "", _MESSAGE_LIMIT)


def _read_parts(case: ElementTree.Element) -> _CaseParts:
    parts = _CaseParts()
    for child in case:
        tag = local_name(child.tag)
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
                _property(item) for item in child if local_name(item.tag) == "property"
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


def _property(element: ElementTree.Element) -> tuple[str, str]:
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


def _outcome(
    case: ElementTree.Element, results: list[ElementTree.Element]
) -> tuple[Outcome, str, str | None]:
    """(outcome, message, failed phase) from the first result element or the status."""
    if not results:
        status = (case.get("status") or "").strip().lower()
        if status in _SKIP_STATUSES:
            return Outcome.SKIPPED, status, None
        return Outcome.PASSED, "", None
    first = results[0]
    tag = local_name(first.tag)
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
        (ATTACHMENT_PROPERTY, match.group(1).strip())
        for text in outputs
        if "[[ATTACHMENT|" in text
        for match in _ATTACHMENT.finditer(text)
    ]


def _details(results: list[ElementTree.Element]) -> str:
    texts = []
    for number, element in enumerate(results):
        text = (element.text or "").strip("\n")
        if number and text:
            text = f"--- {local_name(element.tag)} ---\n{text}"
        if text:
            texts.append(text)
    return "\n".join(texts)


def read_case(
    element: ElementTree.Element,
    *,
    case_id: str,
    suite: str,
    name: str,
    classname: str,
    path: Path,
    max_output: int,
) -> CaseResult:
    """The CaseResult of one ``<testcase>`` whose identity the reader has worked out."""
    duration = parse_duration(element.get("time"))
    if not len(element) and not any(element.get(key) for key in _TICKET_ATTRIBUTES):
        # Most cases of a large report pass and have no children: the short way.
        outcome, message, _ = _outcome(element, [])
        return CaseResult(
            case_id=case_id,
            suite=suite,
            name=name,
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
    if any(key == ATTACHMENT_PROPERTY for key, _ in properties):
        # A report names its files relative to where it lies (Jenkins' convention).
        properties = [
            (key, str((path.parent / value).absolute()) if key == ATTACHMENT_PROPERTY else value)
            for key, value in properties
        ]
    return CaseResult(
        case_id=case_id,
        suite=suite,
        name=name,
        classname=classname,
        outcome=outcome,
        duration=duration,
        message=message,
        details=bound(_details(parts.results), max_output) if parts.results else "",
        stdout=bound(stdout, max_output),
        stderr=bound(stderr, max_output),
        failed_phase=phase,
        # An empty list would cost each case its own object: the shared () instead.
        attempts=parts.attempts or (),
        tickets=tickets or (),
        properties=properties or (),
    )
