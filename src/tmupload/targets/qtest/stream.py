"""qTest's share of the work done while the tests run (``CaseStream``, targets/base.py).

**What it does.** ``add`` turns each final case into its test log ahead of time: the log's
JSON without its two dates (a *template*; the dates need the run's start). With
``may_send`` (an xdist controller, no dry run, a writable outbox) a thread of the stream's
own also *submits*: it finds or creates the parent cycle, then POSTs every full chunk of
``MAX_LOGS`` logs (or what waited ``FLUSH_AFTER`` seconds) and glances at the jobs, so that
the session end sends only the tail. A log that carries files (``tm_attach``, or the
captured output ``--tm-attach`` adds) is never sent early: the files are copied into the
outbox only when the run is spooled, and a spooled copy is what the log must carry.

**Durability.** While the tests run there is no outbox entry (the run is spooled at the
session end, ``delivery/pipeline.py upload()``), so the stream keeps its journal in memory
(:class:`MemoryJournal`), with the records the submitter always keeps: every wave of logs
declared before its POST, each accepted job, each chunk that landed. ``deliver`` takes them
(:meth:`QTestStream.handoff`) and, before it sends anything else, writes them to the entry's
journal as the step ``stream`` — positions in the run instead of the stream's own order, the
cycle as the step ``placement``, the start date the logs were sent with (``anchor``). From
there they are what any earlier attempt's records are (submit.py): an accepted job is
polled, a landed chunk never sent again, and a chunk whose answer was lost during the run
(or that was still on the wire when the tests ended) is looked for on the server before it
is sent again. So a resend after a failed session end sends only what was never submitted,
and nothing twice. A crash while the tests run leaves no entry, so no resend: the results
sent so far stay on the server (the rest were going to be lost anyway), and none is sent
twice. The thread never surfaces a failure while the tests run: it stops, and ``deliver``
does the rest and reports what goes wrong.

**Checked against the run.** ``deliver`` receives the run as spooled, which is the truth:
every case the stream saw is looked up there by its id and must be the same case (the same
object, or one that gives the same log) with no files; a ticket map may add tickets (not in
a log: they are linked afterwards). A case that does not match is sent from the run, and a
log the stream sent for it stays on the server as an earlier log of that run (the case
came again, as ``CaseStream`` allows: the later one wins).

**Dates.** A log's ``exe_start_date`` is the run's start (payload.py). The stream does not
know that moment, so logs sent early carry the moment the target was built (the collector
builds it right after noting the start: microseconds apart), and every log of that upload,
the tail and any resend included, is then dated from it (``anchor`` in the journal), so the
upload's logs agree. Without a sending stream the run's own start is used, as before.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from tmupload.attachments import declared, output_text
from tmupload.http.poll import Deadline
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import quiet
from tmupload.targets.qtest import submit
from tmupload.targets.qtest.api import QTestApi, qtest_client
from tmupload.targets.qtest.payload import build_fields, build_log
from tmupload.targets.qtest.placement import placement_for
from tmupload.targets.qtest.readback import ranges
from tmupload.targets.qtest.templates import Dates, digest, log_template
from tmupload.targets.toolkit.memory import MemoryJournal

__all__ = ["Handoff", "QTestStream"]

log = logging.getLogger("tmupload.qtest")

#: Seconds a result waits at most for a full chunk before the stream sends what it has.
FLUSH_AFTER = 2.0
#: Chunks one wave may carry: results that piled up while a slow server answered go out
#: together, a POST after the other with no job check between, instead of one chunk a turn.
WAVE_CHUNKS = 4
#: Results the stream keeps (templates, ids); past that, deliver builds the rest itself.
MAX_KEPT = 200_000
#: The stream's requests are bounded by their own timeouts, not by the upload's deadline
#: (the tests may run for hours).
_BUDGET = 30 * 24 * 3600.0


def _fields(case: CaseResult) -> tuple[Any, ...]:
    """What a log is made of (payload.build_log), to see that a case did not change."""
    return (
        case.case_id,
        case.suite,
        case.name,
        case.classname,
        case.outcome,
        case.duration,
        case.message,
        case.details,
        case.failed_phase,
        tuple((attempt.outcome, attempt.message) for attempt in case.attempts),
    )


@dataclass(slots=True)
class _Entry:
    case: CaseResult
    fields: tuple[Any, ...]
    template: bytes | None  # None once sent (rebuilt from the case if ever needed again)
    digest: bytes
    seq: int = -1  # its place in the sending order; -1: not for the thread
    taken: bool = False  # handed to the submitter (declared, perhaps sent)
    cancelled: bool = False  # the case came again before it was sent


@dataclass
class Handoff:
    """What the stream did, in the run's positions (see the module docstring)."""

    placed: dict[str, Any] | None = None  # the placement it sent to (None: it sent nothing)
    step: dict[str, Any] | None = None  # the journal step ``stream`` (None: nothing declared)
    landed: dict[int, submit.Landed] = field(default_factory=dict)  # from the jobs' content
    templates: dict[int, bytes] = field(default_factory=dict)  # logs prepared, not sent
    anchor: datetime | None = None  # the start date the stream's logs carry

    def take_landed(self) -> dict[int, submit.Landed]:
        """What the jobs said landed, handed over once: the handoff lets go of it (a log
        each, until the runs are mapped)."""
        landed, self.landed = self.landed, {}
        return landed


class _StreamLogs:
    """The stream's logs in the order it saw them (submit.LogSource), dated from the anchor."""

    def __init__(self, stream: QTestStream) -> None:
        self._stream = stream
        self._dates = Dates(stream.anchor)

    def __len__(self) -> int:
        return len(self._stream.order)

    def log(self, position: int) -> dict[str, Any]:
        entry = self._stream.order[position]
        stream = self._stream
        return build_log(entry.case, stream.status_map, stream.anchor, stream.build)

    def encoded(self, position: int) -> bytes:
        entry = self._stream.order[position]
        if entry.template is not None:
            return entry.template + self._dates.suffix(entry.case.duration)
        return json.dumps(self.log(position), ensure_ascii=False).encode("utf-8")

    def content(self, position: int) -> str:
        return self._stream.order[position].case.case_id


class QTestStream:
    """The CaseStream of the qTest target (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        status_map: Mapping[str, str],
        *,
        may_send: bool,
        anchor: datetime,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.status_map = status_map
        # The run's environment records the same build (the plugin sets both from one place).
        self.build = build_fields(
            {"build": settings.build or "", "build_url": settings.build_url or ""}
        )
        self.may_send = may_send
        self.anchor = anchor
        self._transport = transport
        self.entries: dict[str, _Entry] = {}
        self.order: list[_Entry] = []  # the sending order (``_Entry.seq``)
        self._pending: deque[int] = deque()
        self._oldest = 0.0  # when the oldest pending result arrived
        self._cond = threading.Condition()
        self._ended = False
        self._closed = False
        self._journal = MemoryJournal()
        self._submitter: submit.Submitter | None = None
        self._placed: dict[str, Any] | None = None
        self.error: BaseException | None = None  # why the thread stopped early, if it did
        self.requests = 0  # requests the thread sent
        self._thread: threading.Thread | None = None
        if may_send:
            self._thread = threading.Thread(target=self._work, name="tmupload-qtest", daemon=True)
            self._thread.start()

    # -- CaseStream ----------------------------------------------------------------------
    def add(self, case: CaseResult) -> None:
        try:
            self._add(case)
        except Exception:  # never break the session: deliver builds this log itself
            log.debug("preparing the test log of %s failed", case.case_id, exc_info=True)

    def _add(self, case: CaseResult) -> None:
        if self._closed or len(self.entries) >= MAX_KEPT:
            return
        template = (
            None if self._carries_files(case) else log_template(case, self.status_map, self.build)
        )
        entry = _Entry(case, _fields(case), template, digest(template) if template else b"")
        with self._cond:
            previous = self.entries.get(case.case_id)
            self.entries[case.case_id] = entry
            if previous is not None:
                previous.cancelled = True  # the later case wins; it goes with the tail
                return
            if self._thread is None or template is None:
                return
            entry.seq = len(self.order)
            self.order.append(entry)
            if not self._pending:
                self._oldest = time.monotonic()
            self._pending.append(entry.seq)
            if len(self._pending) == 1 or len(self._pending) >= submit.MAX_LOGS:
                self._cond.notify()

    def _carries_files(self, case: CaseResult) -> bool:
        """Whether spooling may give the case files (attachments.spool_attachments): files
        it declared, or the captured output ``--tm-attach`` adds."""
        if case.attachments or declared(case):
            return True
        mode = self.settings.attach
        wants = mode == "all" or (mode == "output" and case.outcome.is_failure)
        return wants and bool(output_text(case))

    def end(self) -> None:
        with self._cond:
            self._ended = True
            self._cond.notify()

    # -- the thread ----------------------------------------------------------------------
    def _next_batch(self) -> list[int]:
        """Stream positions to send next: the full chunks waiting (at most ``WAVE_CHUNKS``),
        or what waited ``FLUSH_AFTER`` seconds; none once the tests are over (the tail goes
        with ``deliver``)."""
        with self._cond:
            while True:
                if self._ended:
                    return []
                waiting = len(self._pending)
                full = waiting >= submit.MAX_LOGS
                due = self._oldest + FLUSH_AFTER - time.monotonic()
                if full or (waiting and due <= 0):
                    batch: list[int] = []
                    most = submit.MAX_LOGS * (WAVE_CHUNKS if full else 1)
                    while self._pending and len(batch) < most:
                        entry = self.order[self._pending.popleft()]
                        if not entry.cancelled:
                            entry.taken = True
                            batch.append(entry.seq)
                    self._oldest = time.monotonic()
                    if batch:
                        return batch
                    continue
                self._cond.wait(due if waiting else None)

    def _work(self) -> None:
        try:
            with qtest_client(
                self.settings, transport=self._transport, deadline=Deadline(_BUDGET), attempts=2
            ) as http:
                try:
                    self._send_while_the_tests_run(QTestApi(http))
                finally:
                    self.requests = http.requests_sent
        except Exception as exc:  # never surfaces during the tests; deliver does it again
            self.error = exc
            log.debug("the qTest stream stopped; the session end sends the rest", exc_info=True)

    def _send_while_the_tests_run(self, api: QTestApi) -> None:
        logs = _StreamLogs(self)
        while True:
            batch = self._next_batch()
            if not batch:
                return
            if self._submitter is None:
                # No entry yet (journal None): the cycles are found by name next time.
                placement = placement_for(api, self.settings, create=True, journal=None)
                assert placement.cycle_id is not None
                self._placed = placement.as_data()
                self._submitter = submit.Submitter(
                    api, placement.project_id, placement.cycle_id, logs, self._journal, quiet
                )
            submitter = self._submitter
            submitter.send(batch)
            for seq in batch:  # sent: the case can make its log again if it is ever needed
                self.order[seq].template = None
            if submitter.lost:
                return  # looking, and reporting, is deliver's
            if self._backlog() >= submit.MAX_LOGS:
                continue  # results pile up: sending them comes before glancing at the jobs
            submitter.check(wait=False)
            if submitter.lost or submitter.failures:
                return  # looking, and reporting, is deliver's

    def _backlog(self) -> int:
        with self._cond:
            return 0 if self._ended else len(self._pending)

    # -- deliver's side ------------------------------------------------------------------
    def handoff(self, run: RunReport) -> Handoff:
        """Stop the thread (after the request it is in) and say what it did, in ``run``'s
        positions; every case is checked against ``run`` (see the module docstring)."""
        self.end()
        if self._thread is not None:
            # Bounded by the client's own limits (a request's timeout, two attempts).
            self._thread.join(2 * self.settings.timeout + 30.0)
            if self._thread.is_alive():
                log.warning("the qTest stream did not stop; what it sent is looked for")
        with self._cond:
            self._closed = True
        result = Handoff()
        if not self.entries:
            return result
        index = {case.case_id: p for p, case in enumerate(run.cases)}
        where: dict[int, int] = {}  # stream position -> run position
        for case_id, entry in self.entries.items():
            position = index.get(case_id)
            if position is None or not self._same(entry, run.cases[position]):
                continue
            if entry.taken:
                where[entry.seq] = position
            elif entry.template is not None:
                result.templates[position] = entry.template
        submitter = self._submitter
        intent = self._journal.intent(submit.INTENT)
        if submitter is None or intent is None:
            return result
        result.placed = self._placed
        result.anchor = self.anchor

        def moved(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
            return ranges(where[s] for start, end in spans for s in range(start, end) if s in where)

        def spans(key: str) -> list[tuple[int, int]]:
            start, _, end = key.partition("-")
            return [(int(start), int(end))]

        chunks = [
            list(span) for key in self._journal.items(submit.CHUNKS) for span in moved(spans(key))
        ]
        jobs = {
            submit.span_key(*span): dict(data)
            for key, data in self._journal.items(submit.JOBS).items()
            for span in moved(spans(key))
        }
        waves = [
            {
                "spans": [list(span) for span in moved(submit.spans_of(wave.get("spans") or ()))],
                "at_epoch": wave.get("at_epoch", 0.0),
            }
            for wave in intent.get("waves") or ()
        ]
        result.step = {
            "anchor": self.anchor.isoformat(),
            "chunks": chunks,
            "jobs": jobs,
            "waves": [wave for wave in waves if wave["spans"]],
            "cases": len(where),
        }
        result.landed = {where[s]: found for s, found in submitter.landed.items() if s in where}
        return result

    def _same(self, entry: _Entry, case: CaseResult) -> bool:
        """Whether ``case`` (from the run) gives the log ``entry`` was made from, with no
        files (a log sent early has none)."""
        if case.attachments:
            return False
        if entry.case is case and entry.fields == _fields(case):
            return True
        if not entry.digest:
            return False
        try:
            return digest(log_template(case, self.status_map, self.build)) == entry.digest
        except (ValueError, KeyError):
            return False
