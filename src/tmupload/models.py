"""The server-neutral model of a test run: what every front end produces and every target reads.

The records are slotted dataclasses, not pydantic models: a session builds one per test at its
end (10,000s of them) and an import may hold a million, so construction and memory are kept to
what a plain record costs. Data that enters from outside (an outbox entry read back) is
validated where it is read (:mod:`tmupload.delivery.runfile`).

Names avoid a ``Test`` prefix on purpose: pytest would try to collect such classes.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

__all__ = [
    "Attachment",
    "Attempt",
    "CaseResult",
    "Outcome",
    "RunReport",
    "TicketRef",
    "bound",
    "shown_name",
    "unescape_test_id",
]


class Outcome(str, enum.Enum):
    """The final outcome of one test, after folding setup, call, teardown and reruns."""

    PASSED = "passed"
    FAILED = "failed"  # the test body failed (or a strict xpass)
    ERROR = "error"  # setup or teardown failed
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"  # non-strict: counts as a pass

    @property
    def is_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class TicketRef:
    """A defect ticket a test is known to be linked to (``@pytest.mark.ticket``)."""

    key: str
    # Name or id of the defect tracker the key lives in (ET: an external system link); only
    # needed when a project has several trackers whose keys collide (docs/servers/et.md §7).
    external_system_link: str | None = None


@dataclass(slots=True)
class Attachment:
    """A file that goes with one result: a screenshot, a log, the captured output.

    ``path`` is where the bytes are: the outbox entry's copy once the run is spooled (stored
    relative to the entry, absolute in memory), so a file the test deleted still uploads.
    """

    name: str
    path: str
    content_type: str = "application/octet-stream"
    size: int = 0
    sha256: str = ""
    attempt: int | None = None  # from an earlier attempt of a rerun test (1 = the first)


@dataclass(slots=True)
class Attempt:
    """One earlier, failed attempt of a test that a rerun plugin ran again."""

    outcome: Outcome
    message: str = ""
    duration: float = 0.0


@dataclass(slots=True)
class CaseResult:
    """The result of one test: a pytest node id, or one ``<testcase>`` of an imported file."""

    # Stable identity: the pytest node id, or ``suite::classname::name`` for imported files.
    case_id: str
    # Where the case sits: ``suite`` groups cases (a test file, a JUnit testsuite) and
    # ``name`` is unique within the suite. Targets build their hierarchy from these.
    suite: str
    name: str
    outcome: Outcome
    classname: str = ""
    duration: float = 0.0
    message: str = ""  # one line: the exception or skip reason
    details: str = ""  # the failure text (traceback, teardown error), size-bounded
    stdout: str = ""
    stderr: str = ""
    log: str = ""
    # The phase whose failure decided the outcome (setup, call, teardown), if any.
    failed_phase: str | None = None
    # Sequences whose default is the shared empty tuple: most cases have none of these, and an
    # empty list per field and case was a quarter of what a held case costs (224 of ~860
    # bytes; a million imported cases hold ~210 MB less). Code that adds to one assigns a new
    # sequence instead of appending to it.
    attempts: Sequence[Attempt] = ()
    tickets: Sequence[TicketRef] = ()
    properties: Sequence[tuple[str, str]] = ()
    attachments: Sequence[Attachment] = ()

    @property
    def flaky(self) -> bool:
        """Failed at least once, then passed on a rerun."""
        return bool(self.attempts) and not self.outcome.is_failure


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class RunReport:
    """A whole run: what gets spooled to the outbox and sent to a target."""

    name: str = "pytest run"
    started_at: datetime = field(default_factory=_now)
    finished_at: datetime = field(default_factory=_now)
    environment: dict[str, str] = field(default_factory=dict)
    cases: list[CaseResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many cases ended with each outcome (every outcome present, zero or not)."""
        totals = {outcome.value: 0 for outcome in Outcome}
        for case in self.cases:
            totals[case.outcome.value] += 1
        return totals


def bound(text: str, limit: int) -> str:
    """Keep the head and the tail of an over-long text, saying how much was cut."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n... [{cut} characters cut by tmupload] ...\n{text[-tail:]}"


# What ``_pytest.compat.ascii_escaped`` makes of a ``str`` (the ``unicode_escape`` codec, lower-case
# hex): ``\\`` for a backslash (matched so that ``\\u20ac`` stays a backslash and ``u20ac``),
# ``\xNN``, ``\uNNNN``, ``\UNNNNNNNN``; ``\t``, ``\n``, ``\r`` need no match (they are kept).
_PYTEST_ESCAPE = re.compile(r"\\(?:\\|x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8}))")


def _readable(match: re.Match[str]) -> str:
    digits = match.group(1) or match.group(2) or match.group(3)
    if digits is None:  # an escaped backslash
        return match.group()
    code = int(digits, 16)
    if code < 0x80 or code > 0x10FFFF:  # an ASCII control character: kept as pytest wrote it
        return match.group()
    char = chr(code)
    # A character a person reads (``€``, ``é``, a no-break space) comes back; one that is
    # invisible or breaks a line (C1 controls, U+2028, a lone surrogate) stays escaped.
    if char.isprintable() or unicodedata.category(char) == "Zs":
        return char
    return match.group()


def unescape_test_id(name: str) -> str:
    r"""A pytest test name (``test_x[id]``, ``Class::test_x[id]``) with pytest's escaping of
    its parameter ids undone: ``test_amount[\u20ac1 000,00]`` -> ``test_amount[€1 000,00]``.

    pytest escapes every non-ASCII character of a parametrize id (``_pytest.compat.ascii_escaped``,
    unless ``disable_test_id_escaping_and_forfeit_all_rights_to_community_support`` is set):
    this is its inverse for the characters a person can read, and only after the first ``[``
    (names before it are Python identifiers, never escaped). ASCII escapes (``\n``, ``\t``,
    ``\x00``, ``\\``) and invisible characters stay as pytest wrote them.
    """
    head, bracket, ids = name.partition("[")
    if not bracket or "\\" not in ids:
        return name
    return head + bracket + _PYTEST_ESCAPE.sub(_readable, ids)


def shown_name(case: CaseResult, rest: str) -> str:
    """The name a server shows for ``case``, given ``rest``, its id below its suite.

    The whole rest, classes included (``TestCart::test_total``), as ET's node names always
    had it: two classes' ``test_total`` then read apart in any listing. A pytest case's name
    is its rest with the parameter ids unescaped (:func:`unescape_test_id`, done where the
    case is made, which knows whether pytest escaped them): that name is shown then. Any
    other rest (an imported duplicate's ``name #2``) is shown as it is.
    """
    name = case.name
    if rest == name or unescape_test_id(rest) == name:
        return name
    return rest
