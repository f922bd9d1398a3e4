"""Submitting test logs in chunks and waiting for their queue jobs
(docs/servers/qtest.md §4.1, §4.4, §5).

* Chunks of at most ``MAX_LOGS`` logs and ``MAX_BYTES`` bytes (docs/servers/qtest.md §4.4: no
  published limit; "a few hundred logs"); a 413 halves the chunk and lowers both limits for the
  rest.
* Several jobs in flight: the batch endpoint only queues a job (docs/servers/qtest.md §4.1: 201 with
  a ``QueueProcessingResponse``; docs/servers/qtest.md §5: jobs wait ``IN_WAITING``), and the
  reference names no limit on a project's queued jobs, so every chunk of a wave is POSTed before any
  job is waited for. The jobs are then polled together, oldest first, at
  ``/api/v3/projects/queue-processing/{id}`` until ``SUCCESS`` or ``FAILED``; any other
  state, known or not, is not final (docs/servers/qtest.md §5). [UNCONFIRMED: whether a real server
  runs two jobs of one project at once; if it did, two chunks creating the same *new* sub-cycle
  could race (docs/servers/qtest.md §4.1 reuses a folder "when one with the same name and location
  already exists"). The read-back finds runs below the parent cycle whichever sub-cycle holds them.]
* A job's ``content`` is kept where it names, per log, the run and log it made (the keys are
  [UNCONFIRMED], docs/servers/qtest.md §5: read tolerantly by :func:`landed_logs`, else ignored):
  what the target then need not read back.

What the journal holds of it, and what the jobs answer, is read by ``jobs.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from tmupload.errors import (
    ServerError,
    ServerProtocolError,
    ServerRejected,
    ServerUnavailable,
    TaskError,
    TransportError,
)
from tmupload.http.poll import poll
from tmupload.targets.base import Journal, Progress
from tmupload.targets.qtest.api import QTestApi
from tmupload.targets.qtest.jobs import (
    MAX_BYTES,
    MAX_LOGS,
    Landed,
    LogSource,
    Span,
    chunk_ranges,
    failed_job,
    failure_message,
    landed_logs,
    span_key,
    span_range,
    spans_of,
)
from tmupload.targets.qtest.readback import find_landed, ranges

__all__ = [
    "CHUNKS",
    "INTENT",
    "JOBS",
    "MAX_BYTES",
    "MAX_LOGS",
    "Landed",
    "LogSource",
    "Submitter",
    "chunk_ranges",
    "failure_message",
    "landed_logs",
    "span_key",
    "spans_of",
]

log = logging.getLogger("tmupload.qtest")

#: Seconds a queued job may take to show its logs after an answer was lost
#: (docs/servers/qtest.md §5: jobs wait in a queue). A resend long after the attempt looks once;
#: right after, it waits the rest.
LOOK_GRACE = 10.0
#: 5xx answers to a POST that may come after the server applied it (a 503 or 429 says it
#: was not processed, and the client already retried those).
_AMBIGUOUS = (None, 500, 502, 504)

CHUNKS = "chunks"
JOBS = "jobs"
INTENT = "submit"


@dataclass
class _Job:
    spans: list[Span]
    at_epoch: float


class Submitter:
    """Send the logs of one run to one parent cycle, journaling each chunk and job.

    :meth:`run` does it all; :meth:`send`, :meth:`check` and :meth:`settle` are its steps,
    used one batch at a time by the stream while the tests run.
    """

    def __init__(
        self,
        api: QTestApi,
        project_id: str,
        cycle_id: str,
        logs: LogSource,
        journal: Journal,
        progress: Progress,
        *,
        handed: dict[str, Any] | None = None,
        landed: dict[int, Landed] | None = None,
    ) -> None:
        self.api = api
        self.project_id = project_id
        self.cycle_id = cycle_id
        self.logs = logs
        self.journal = journal
        self.progress = progress
        self.handed = handed  # the journal's ``stream`` step: what was sent during the tests
        self.max_logs = MAX_LOGS
        self.max_bytes = MAX_BYTES
        self.stripped: set[int] = set()  # logs sent without their attachments (too large)
        self.done: set[int] = set()
        self.jobs: list[str] = []  # jobs that succeeded, in the order they were seen to
        self.landed: dict[int, Landed] = dict(landed or {})  # from the jobs' content
        self.outstanding: dict[str, _Job] = {}  # accepted jobs not yet final, oldest first
        self.lost: list[_Job] = []  # sent (perhaps), answer lost: to look for before resending
        self.failures: list[tuple[str, str]] = []  # (message, job url) of FAILED jobs
        self._waves: list[dict[str, Any]] = []  # declared and not yet all landed
        self._total = 0  # logs this attempt sends, and how many went so far (progress)
        self._sent = 0

    # -- the whole submission ------------------------------------------------------------
    def run(self) -> None:
        self._resume()
        busy = set(self.done)
        for job in (*self.outstanding.values(), *self.lost):
            busy.update(p for start, end in job.spans for p in range(start, end))
        todo = [p for p in range(len(self.logs)) if p not in busy]
        if todo:
            self.progress(f"submitting {len(todo):,} test logs to qTest")
            self._total = len(todo)
            self.send(todo)
        while True:
            self.check(wait=True)
            if self.failures:
                message, url = self.failures[0]
                raise TaskError(message, url=url)
            missing = self.settle()
            if not missing:
                return
            self.progress(f"{len(missing)} test logs did not land; sending them")
            self.send(missing)

    def _resume(self) -> None:
        """Read what an earlier attempt (or the stream) left: landed chunks, accepted jobs,
        declared waves. Nothing is sent or awaited here."""
        handed = self.handed or {}
        for start, end in spans_of(handed.get("chunks") or ()):
            self.done.update(range(start, end))
        for key in self.journal.items(CHUNKS):
            self.done.update(span_range(key))
        jobs: dict[str, dict[str, Any]] = {}
        for source in (dict(handed.get("jobs") or {}), self.journal.items(JOBS)):
            jobs.update(source)
        covered: set[int] = set()
        for key, data in jobs.items():
            span = span_range(key)
            if all(p in self.done for p in span) or "job" not in data:
                continue
            job = self.outstanding.setdefault(
                str(data["job"]), _Job([], float(data.get("at_epoch", 0.0)))
            )
            job.spans.append((span.start, span.stop))
            covered.update(span)
        intent = self.journal.intent(INTENT) or {}
        declared = [w for w in intent.get("waves") or () if isinstance(w, dict)]
        if "start" in intent and "end" in intent:  # the form of an earlier version
            declared.append(
                {
                    "spans": [[int(intent["start"]), int(intent["end"])]],
                    "at_epoch": float(intent.get("at_epoch", 0.0)),
                }
            )
        # Kept declared until every log of them landed: a crash before the look must not
        # make a resend forget it (the stream's waves stay in its own step).
        self._waves = declared
        for wave in [*(handed.get("waves") or ()), *declared]:
            unsure = [
                p
                for start, end in spans_of(wave.get("spans") or ())
                for p in range(start, end)
                if p not in self.done and p not in covered
            ]
            if unsure:
                self.lost.append(_Job(ranges(unsure), float(wave.get("at_epoch", 0.0))))
                covered.update(unsure)

    # -- a wave of chunks ----------------------------------------------------------------
    def send(self, positions: Sequence[int]) -> None:
        """Declare ``positions`` (one wave), then POST them chunk by chunk without waiting
        for any job. A refused chunk is halved (413); a lost answer goes to :attr:`lost`."""
        if not positions:
            return
        spans = ranges(positions)
        self._declare(spans)
        # A chunk may span gaps (the tail after a stream, what a resend lost): its job is
        # recorded under each of its spans, one journal key each.
        chunk: list[int] = []
        parts: list[bytes] = []
        size = 0
        for position in (p for start, end in spans for p in range(start, end)):
            data = self.logs.encoded(position)
            item = len(data) + 1
            if parts and (len(parts) >= self.max_logs or size + item > self.max_bytes):
                self._post(chunk, parts)
                chunk, parts, size = [], [], 0
            chunk.append(position)
            parts.append(data)
            size += item
        if parts:
            self._post(chunk, parts)

    def _declare(self, spans: list[Span]) -> None:
        # Waves whose every log landed need no look any more; the others stay declared.
        open_waves = [
            wave
            for wave in self._waves
            if any(
                p not in self.done
                for start, end in spans_of(wave.get("spans") or ())
                for p in range(start, end)
            )
        ]
        wave = {"spans": [[start, end] for start, end in spans], "at_epoch": time.time()}
        self._waves = [*open_waves, wave]
        self.journal.declare(INTENT, {"waves": self._waves})

    def _body(self, parts: list[bytes]) -> bytes:
        head = json.dumps({"test_cycle": self.cycle_id})[:-1].encode("utf-8")
        return head + b', "test_logs": [' + b",".join(parts) + b"]}"

    def _stripped(self, position: int) -> bytes:
        bare = {k: v for k, v in self.logs.log(position).items() if k != "attachments"}
        bare["note"] = (
            bare.get("note", "") + "\n[tmupload: attachments left out: the server "
            "refused the test log with them as too large]"
        ).strip()
        return json.dumps(bare, ensure_ascii=False).encode("utf-8")

    def _post(self, chunk: list[int], parts: list[bytes], strip: bool = False) -> None:
        """POST one chunk (the logs of ``chunk``'s positions, already encoded); record the
        job it was given."""
        body = self._body(parts)
        spans = ranges(chunk)
        at = time.time()
        try:
            job = self.api.submit(self.project_id, body)
        except ServerRejected as exc:
            if exc.status != 413:
                raise
            self._too_large(chunk, len(body), strip, exc)
            return
        except (TransportError, ServerUnavailable) as exc:
            if isinstance(exc, ServerUnavailable) and exc.status not in _AMBIGUOUS:
                raise
            log.debug("the answer to the chunk %s was lost: %s", spans, exc)
            self.progress("a submission's answer was lost; its logs are looked for, not resent")
            self.lost.append(_Job(spans, at))
            return
        job_id = job.get("id")
        if job_id is None:
            raise ServerProtocolError("qTest accepted the test logs but named no queue job id")
        for start, end in spans:
            self.journal.item_done(JOBS, span_key(start, end), {"job": str(job_id), "at_epoch": at})
        self.outstanding[str(job_id)] = _Job(spans, at)
        self._sent += len(chunk)
        if self._total > MAX_LOGS and self._sent < self._total:
            self.progress(f"submitted {self._sent:,} of {self._total:,} test logs")

    def _too_large(self, chunk: list[int], size: int, strip: bool, exc: ServerError) -> None:
        count = len(chunk)
        if count > 1:  # docs/servers/qtest.md §4.4: on 413, halve the batch and retry
            self.max_logs = max(1, count // 2)
            self.max_bytes = max(1, size // 2)
            middle = count // 2
            self.progress(f"the server refused {count} logs as too large; sending halves")
            for half in (chunk[:middle], chunk[middle:]):
                self._post(half, [self.logs.encoded(p) for p in half])
            return
        (start,) = chunk
        if not strip and "attachments" in self.logs.log(start):
            self.stripped.add(start)
            self._post(chunk, [self._stripped(start)], strip=True)
            return
        case = self.logs.content(start)
        raise TaskError(
            f"qTest refuses the test log of {case!r} as too large even alone ({size:,} bytes; "
            f"{exc}); lower --tm-max-output to shorten the captured output it carries",
            status=413,
        )

    # -- the jobs ------------------------------------------------------------------------
    def check(self, *, wait: bool) -> None:
        """Poll the outstanding jobs, oldest first, each until it is final (``wait``) or
        once. A FAILED job goes to :attr:`failures`; one the server no longer knows (404)
        to :attr:`lost` (its logs are looked for)."""
        if not self.outstanding:
            return

        def sweep() -> bool | None:
            for job_id in list(self.outstanding):
                current = self.api.job(job_id)
                if current is None:
                    self.lost.append(self.outstanding.pop(job_id))
                    continue
                state = str(current.get("state") or "").upper()
                if state == "SUCCESS":
                    self._landed(job_id, current)
                elif state == "FAILED":
                    self.outstanding.pop(job_id)
                    url = self.api.http.url(f"api/v3/projects/queue-processing/{job_id}")
                    self.failures.append((failed_job(job_id, current), url))
                else:  # IN_WAITING, IN_PROCESSING, PENDING, or a state not documented
                    return None  # jobs mostly end in the order they were queued
            return True

        if not wait:
            sweep()
            return
        oldest = next(iter(self.outstanding))
        url = self.api.http.url(f"api/v3/projects/queue-processing/{oldest}")
        poll(
            sweep,
            deadline=self.api.http.deadline,
            what=f"the qTest queue jobs ({len(self.outstanding)} waiting, e.g. {oldest})",
            detail=lambda: f"their state is at {url}",
        )

    def _landed(self, job_id: str, job: dict[str, Any]) -> None:
        data = self.outstanding.pop(job_id)
        log.debug("job %s succeeded: %s", job_id, str(job.get("content"))[:500])
        said = landed_logs(job)
        for start, end in data.spans:
            if said:
                for position in range(start, end):
                    found = said.get(self.logs.content(position))
                    if found is not None:
                        self.landed[position] = found
            self.journal.item_done(
                CHUNKS, span_key(start, end), {"job": job_id, "state": "SUCCESS"}
            )
            self.done.update(range(start, end))
        self.jobs.append(job_id)

    # -- lost answers --------------------------------------------------------------------
    def settle(self) -> list[int]:
        """Look on the server for the logs of every lost answer; record what landed and
        return the positions that did not (to be sent again)."""
        if not self.lost:
            return []
        positions = sorted(
            {
                p
                for job in self.lost
                for start, end in job.spans
                for p in range(start, end)
                if p not in self.done
            }
        )
        first = min(job.at_epoch for job in self.lost)
        last = max(job.at_epoch for job in self.lost)
        if not positions:
            self.lost = []
            return []
        self.progress("looking for test logs an interrupted submission may have added")
        sent = {p: self.logs.log(p) for p in positions}
        attempt = datetime.fromtimestamp(first, tz=timezone.utc)
        wait = max(0.0, LOOK_GRACE - (time.time() - last))
        found = find_landed(self.api, self.project_id, self.cycle_id, sent, attempt, wait=wait)
        for start, end in ranges(found):
            self.journal.item_done(CHUNKS, span_key(start, end), {"state": "FOUND"})
        self.done.update(found)
        self.lost = []
        return sorted(set(positions) - found)
