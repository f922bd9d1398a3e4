"""The interface every target implements, and the server-neutral results it returns.

A target owns its sequence (Enterprise Tester uploads one document then maps result nodes;
qTest submits batches then maps; Zephyr maps first, then sets statuses). The core hands it a
:class:`Journal` with three primitives, so that a resend resumes where a delivery stopped:

- a finished **step** (``done`` / ``finish``): never repeated;
- an **intent** (``intent`` / ``declare``), recorded *before* a write that is not idempotent:
  on resume, an intent without its finished step means "the write may have happened — look
  before writing again";
- per-item **progress** (``items`` / ``item_done``), flushed as each item (link, chunk)
  finishes rather than once at the end.

What comes back (:class:`Delivery`) speaks no server's language: a run reference with a page
a person can open, the server's reference for each case, totals by outcome, and links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tmupload.models import CaseResult, RunReport

__all__ = [
    "AttachmentResult",
    "CaseStream",
    "Delivery",
    "Journal",
    "LinkResult",
    "LinkStatus",
    "Preparing",
    "Progress",
    "ResultMap",
    "ResultRef",
    "RunRef",
    "Streaming",
    "Target",
    "quiet",
    "trouble_channel",
]

# ``noted``: the server would not link, so the key is only written on the result (its notes).
LinkStatus = Literal["linked", "already_linked", "noted", "unknown_ticket", "failed", "pending"]

#: One line of progress for the person waiting ("uploading 2,000 results").
Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """A progress that says nothing (dry runs, checks, tests)."""
    return None


def trouble_channel(progress: Progress) -> Progress:
    """Where a target reports retries: the progress's ``trouble`` line (shown even under -q)
    when it has one, else the progress itself."""
    trouble = getattr(progress, "trouble", None)
    return trouble if callable(trouble) else progress


#: Neutral keys of ``Delivery.totals``, in the order a summary lists them.
TOTAL_KEYS = ("passed", "failed", "errors", "skipped", "not_run")


@dataclass(frozen=True)
class LinkResult:
    """What became of one (case, ticket key) pair."""

    case_id: str
    key: str
    status: LinkStatus
    reason: str = ""


@dataclass(frozen=True)
class AttachmentResult:
    """What became of one attachment of one case."""

    case_id: str
    name: str
    size: int
    # ``left_out``: the server would not take it (the result landed without it); not retried.
    status: Literal["sent", "failed", "left_out"]
    reason: str = ""


@dataclass(frozen=True)
class RunRef:
    """The run (or its equivalent: a cycle's upload, a phase) as the server knows it."""

    id: str
    url: str | None = None  # a page a person can open in a browser
    api_url: str | None = None  # the same thing for a program (kept in the manifest)
    status: str | None = None  # the server's own word for the run's state
    # Where a person finds it in the server's web UI, when no page URL is known.
    where: str | None = None


@dataclass(frozen=True, slots=True)
class ResultRef:
    """The server's record of one case (a result node, a test log, an execution); one per
    case, so slotted (a million of them: ~60 MB instead of ~200 MB)."""

    id: str
    status: str | None = None  # the server's own status word for it


class ResultMap(Mapping[str, ResultRef]):
    """case id -> :class:`ResultRef`, each made when asked for from maps the delivery keeps
    anyway (the journal's: case -> server id, case -> status): a run of a million cases holds
    no second map of a million records beside them (~160 MB)."""

    __slots__ = ("_id_of", "_ids", "_status_of")

    def __init__(
        self,
        ids: Mapping[str, Any],
        status_of: Callable[[str], str | None],
        id_of: Callable[[Any], str] = str,
    ) -> None:
        self._ids = ids
        self._status_of = status_of
        self._id_of = id_of

    def __getitem__(self, case_id: str) -> ResultRef:
        return ResultRef(self._id_of(self._ids[case_id]), self._status_of(case_id))

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


@dataclass
class Delivery:
    """What a target did with one run (or, in a dry run, would do)."""

    target: str  # the server's title, e.g. "Enterprise Tester"
    run: RunRef | None = None
    totals: dict[str, int] = field(default_factory=dict)  # TOTAL_KEYS -> count, as read back
    # case id -> the server's record (a ResultMap from the targets: made on access)
    results: Mapping[str, ResultRef] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)  # case ids the server shows nothing for
    links: list[LinkResult] = field(default_factory=list)
    attachments: list[AttachmentResult] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # dry run: what would be created and sent
    requests: int = 0
    bytes_sent: int = 0


class Journal(Protocol):
    """Durable record of a delivery's progress (see the module docstring)."""

    def done(self, step: str) -> dict[str, Any] | None:
        """The data recorded when ``step`` finished, or None if it has not."""
        ...

    def finish(self, step: str, data: dict[str, Any]) -> None:
        """Record ``step`` as finished (atomically), clearing its intent."""
        ...

    def intent(self, step: str) -> dict[str, Any] | None:
        """What was declared before ``step``'s write, if the write may have happened."""
        ...

    def declare(self, step: str, data: dict[str, Any]) -> None:
        """Record, before a write that is not idempotent, what a resume needs to look for."""
        ...

    def items(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every finished item of ``kind`` (e.g. "links"), by key."""
        ...

    def item_done(self, kind: str, key: str, data: dict[str, Any]) -> None:
        """Record one finished item at once (safe to call from several threads)."""
        ...


class Preparing(Protocol):
    """A target that can do part of its work before the results exist."""

    def prepare(self) -> None:
        """Read-only lookups that do not depend on the results (where the run will go), done
        in the background while the tests run; ``deliver`` uses what they found and does the
        rest. Never writes, never raises: a problem is found again, and reported, by
        ``deliver``."""
        ...


class CaseStream(Protocol):
    """Takes each case the moment it is final, while the tests still run.

    ``add`` is called on the session's main thread (the xdist controller's) once per test as
    it ends: it must be quick and must not raise; slow work belongs on a thread of the
    stream's own. A case id may come again (a crashed worker's test run elsewhere): the later
    case wins. What a case holds may still change before ``deliver``: a ticket map adds
    tickets, spooling moves attachments into the outbox. So whatever is made ahead of time
    is checked against the run that ``deliver`` receives, which is the truth.
    """

    def add(self, case: CaseResult) -> None: ...

    def end(self) -> None:
        """The tests are over (before ``deliver``): finish or stop the stream's own work."""
        ...


class Streaming(Protocol):
    """A target that can do part of its work as each result arrives."""

    def stream(self, *, may_send: bool) -> CaseStream:
        """A stream for this session's results (opened when the session starts).

        ``may_send``: whether the stream may talk to the server while the tests run. It is
        False in a plain session, whose tests run in this process and may mock httpx (as
        pytest-httpx does for every transport) -- they would see our requests as theirs --
        and in a dry run; it is True on an xdist controller, where no test runs. Without it
        a stream may only prepare (build payloads, look up what it already knows).
        """
        ...


class Target(Protocol):
    """One test-management server."""

    def describe(self) -> str:
        """One line for the pytest header and the dry run: where results go."""
        ...

    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        """Send the run, journaling as it goes; return what landed."""
        ...

    def plan(self, run: RunReport) -> Delivery:
        """Resolve everything read-only and say what deliver() would create and send."""
        ...
