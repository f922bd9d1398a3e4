"""Submitting test logs in chunks and waiting for their queue jobs (ref §3.1, §3.7, §4).

* Chunks of at most ``MAX_LOGS`` logs and ``MAX_BYTES`` bytes (ref §3.7: no published limit;
  "a few hundred logs"); a 413 halves the chunk and lowers both limits for the rest.
* Each job is polled at ``/api/v3/projects/queue-processing/{id}`` until ``SUCCESS`` or
  ``FAILED``; any other state, known or not, is not final (ref §4).
* Journal (by positions in the run's case list, half-open ``a-b`` keys): the intent
  ``submit`` is declared before every POST; ``jobs`` records an accepted job; ``chunks``
  records a chunk that landed. A chunk whose answer was lost (a broken connection or a 5xx
  after the POST was sent, or a resend finding an intent without a result) is looked for on
  the server before it is ever sent again (ref §8: no idempotency): one upload never adds two
  logs to a run.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
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
from tmupload.targets.qtest.readback import find_landed, ranges

__all__ = ["MAX_BYTES", "MAX_LOGS", "Submitter", "chunk_ranges", "failure_message"]

log = logging.getLogger("tmupload.qtest")

MAX_LOGS = 500
MAX_BYTES = 4 * 1024 * 1024
#: Seconds a queued job may take to show its logs after an answer was lost (ref §4: jobs wait
#: in a queue). A resend long after the attempt looks once; right after, it waits the rest.
LOOK_GRACE = 10.0
#: 5xx answers to a POST that may come after the server applied it (a 503 or 429 says it
#: was not processed, and the client already retried those).
_AMBIGUOUS = (None, 500, 502, 504)

CHUNKS = "chunks"
JOBS = "jobs"
INTENT = "submit"


def _key(start: int, end: int) -> str:
    return f"{start}-{end}"


def _span(key: str) -> range:
    start, _, end = key.partition("-")
    return range(int(start), int(end))


def chunk_ranges(
    sizes: dict[int, int], max_logs: int = MAX_LOGS, max_bytes: int = MAX_BYTES
) -> list[tuple[int, int]]:
    """Positions (with their encoded sizes) cut into chunks within both limits; a chunk
    never spans a gap between positions (so it is one journal key)."""
    chunks: list[tuple[int, int]] = []
    for start, end in ranges(sizes):
        first, size = start, 0
        for position in range(start, end):
            item = sizes[position] + 1
            full = position - first >= max_logs or size + item > max_bytes
            if position > first and full:
                chunks.append((first, position))
                first, size = position, 0
            size += item
        chunks.append((first, end))
    return chunks


def failure_message(job: dict[str, Any]) -> str:
    """A FAILED job's ``content``: a JSON string ``{message, errors}`` or plain text (ref §4)."""
    content = job.get("content")
    data: Any = content
    if isinstance(content, str):
        try:
            data = json.loads(content)
        except ValueError:
            return content.strip()[:1000] or "no details given"
    if isinstance(data, dict):
        text = str(data.get("message") or data.get("error") or "").strip()
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(str(item)[:200] for item in errors[:3])
            text = f"{text} ({details})" if text else details
        return text or json.dumps(data)[:1000]
    return str(data)[:1000] if data else "no details given"


class Submitter:
    """Send the logs of one run to one parent cycle, chunk by chunk, journaling each."""

    def __init__(
        self,
        api: QTestApi,
        project_id: str,
        cycle_id: str,
        logs: list[dict[str, Any]],
        journal: Journal,
        progress: Progress,
    ) -> None:
        self.api = api
        self.project_id = project_id
        self.cycle_id = cycle_id
        self.logs = logs
        self.encoded = [json.dumps(item, ensure_ascii=False).encode("utf-8") for item in logs]
        self.journal = journal
        self.progress = progress
        self.max_logs = MAX_LOGS
        self.max_bytes = MAX_BYTES
        self.stripped: set[int] = set()  # logs sent without their attachments (too large)
        self.done: set[int] = set()
        self.jobs: list[str] = []

    # -- the whole submission ------------------------------------------------------------
    def run(self) -> None:
        for key in self.journal.items(CHUNKS):
            self.done.update(_span(key))
        self._resume()
        todo = [p for p in range(len(self.logs)) if p not in self.done]
        if not todo:
            return
        self.progress(f"submitting {len(todo):,} test logs to qTest")
        pending = deque(self._chunks(todo))
        while pending:
            start, end = pending.popleft()
            pending.extendleft(reversed(self._send(start, end)))
            sent = len(self.done)
            if pending and sent:
                self.progress(f"submitted {sent:,} of {len(self.logs):,} test logs")

    def _chunks(self, positions: list[int]) -> list[tuple[int, int]]:
        sizes = {p: len(self.encoded[p]) for p in positions}
        return chunk_ranges(sizes, self.max_logs, self.max_bytes)

    def _resume(self) -> None:
        """Finish what an earlier attempt left: accepted jobs, and a POST never answered."""
        polled: set[str] = set()
        for key, data in self.journal.items(JOBS).items():
            span = _span(key)
            if all(p in self.done for p in span):
                continue
            polled.add(key)
            self.progress(f"waiting for the qTest job {data['job']} of an earlier attempt")
            job = self.api.job(str(data["job"]))
            if job is None:  # flushed or unknown: look for its logs instead
                self._look(span.start, span.stop, float(data.get("at_epoch", 0.0)), 0.0)
            else:
                self._wait(str(data["job"]), span.start, span.stop, job)
        intent = self.journal.intent(INTENT)
        if intent is None:
            return
        start, end = int(intent["start"]), int(intent["end"])
        if _key(start, end) in polled or all(p in self.done for p in range(start, end)):
            return
        self.progress("looking for test logs an interrupted submission may have added")
        age = time.time() - float(intent.get("at_epoch", 0.0))
        self._look(start, end, float(intent.get("at_epoch", 0.0)), max(0.0, LOOK_GRACE - age))

    # -- one chunk -----------------------------------------------------------------------
    def _body(self, start: int, end: int, strip: bool = False) -> bytes:
        parts = self.encoded[start:end]
        if strip:
            bare = {k: v for k, v in self.logs[start].items() if k != "attachments"}
            bare["note"] = (
                bare.get("note", "") + "\n[tmupload: attachments left out: the server "
                "refused the test log with them as too large]"
            ).strip()
            parts = [json.dumps(bare, ensure_ascii=False).encode("utf-8")]
        head = json.dumps({"test_cycle": self.cycle_id})[:-1].encode("utf-8")
        return head + b', "test_logs": [' + b",".join(parts) + b"]}"

    def _send(self, start: int, end: int, strip: bool = False) -> list[tuple[int, int]]:
        """POST one chunk and wait for its job; returns the chunks still to send."""
        body = self._body(start, end, strip)
        at = time.time()
        self.journal.declare(INTENT, {"start": start, "end": end, "at_epoch": at})
        try:
            job = self.api.submit(self.project_id, body)
        except ServerRejected as exc:
            if exc.status != 413:
                raise
            return self._too_large(start, end, len(body), strip, exc)
        except (TransportError, ServerUnavailable) as exc:
            if isinstance(exc, ServerUnavailable) and exc.status not in _AMBIGUOUS:
                raise
            return self._lost(start, end, at, exc)
        job_id = job.get("id")
        if job_id is None:
            raise ServerProtocolError("qTest accepted the test logs but named no queue job id")
        self.journal.item_done(JOBS, _key(start, end), {"job": str(job_id), "at_epoch": at})
        self._wait(str(job_id), start, end, job)
        return []

    def _too_large(
        self, start: int, end: int, size: int, strip: bool, exc: ServerError
    ) -> list[tuple[int, int]]:
        count = end - start
        if count > 1:  # ref §3.7: on 413, halve the batch and retry
            self.max_logs = max(1, count // 2)
            self.max_bytes = max(1, size // 2)
            middle = start + count // 2
            self.progress(f"the server refused {count} logs as too large; sending halves")
            return [(start, middle), (middle, end)]
        if not strip and "attachments" in self.logs[start]:
            self.stripped.add(start)
            return self._send(start, end, strip=True)
        case = self.logs[start]["automation_content"]
        raise TaskError(
            f"qTest refuses the test log of {case!r} as too large even alone ({size:,} bytes; "
            f"{exc}); lower --tm-max-output to shorten the captured output it carries",
            status=413,
        )

    def _lost(self, start: int, end: int, at: float, exc: ServerError) -> list[tuple[int, int]]:
        self.progress("the submission's answer was lost; looking for the logs it may have added")
        try:
            missing = self._look(start, end, at, LOOK_GRACE)
        except ServerError:
            raise exc from None  # still unreachable: the journal's intent says to look again
        if missing:
            self.progress(f"{len(missing)} of {end - start} test logs did not land; sending them")
        return self._chunks(missing)

    def _look(self, start: int, end: int, at_epoch: float, wait: float) -> list[int]:
        """Record the logs of ``start:end`` that landed; return the positions that did not."""
        sent = {p: self.logs[p] for p in range(start, end) if p not in self.done}
        attempt = datetime.fromtimestamp(at_epoch, tz=timezone.utc)
        found = find_landed(self.api, self.project_id, self.cycle_id, sent, attempt, wait=wait)
        for first, last in ranges(found):
            self.journal.item_done(CHUNKS, _key(first, last), {"state": "FOUND"})
        self.done.update(found)
        return sorted(set(sent) - found)

    def _wait(self, job_id: str, start: int, end: int, job: dict[str, Any] | None) -> None:
        url = self.api.http.url(f"api/v3/projects/queue-processing/{job_id}")
        first = [job]

        def check() -> dict[str, Any] | None:
            current = first.pop() if first else self.api.job(job_id)
            if current is None:
                raise TaskError(f"the qTest queue job {job_id} disappeared ({url})", url=url)
            state = str(current.get("state") or "").upper()
            if state == "SUCCESS":
                return current
            if state == "FAILED":
                raise TaskError(_failed(job_id, current), url=url)
            return None  # IN_WAITING, IN_PROCESSING, PENDING, or a state not documented

        done = poll(
            check,
            deadline=self.api.http.deadline,
            what=f"the qTest queue job {job_id}",
            detail=lambda: f"its state is at {url}",
        )
        log.debug("job %s succeeded: %s", job_id, str(done.get("content"))[:500])
        self.jobs.append(job_id)
        self.journal.item_done(CHUNKS, _key(start, end), {"job": job_id, "state": "SUCCESS"})
        self.done.update(range(start, end))


def _failed(job_id: str, job: dict[str, Any]) -> str:
    message = failure_message(job)
    hint = "fix the data named above"
    if "status" in message.lower():
        hint = (
            "the status strings must be those mapped in the project's Automation Settings "
            "(Automation Integration): set --tm-status-map, e.g. passed=PASSED,failed=FAILED"
        )
    return f"qTest refused the test logs (queue job {job_id} FAILED): {message} — {hint}"
