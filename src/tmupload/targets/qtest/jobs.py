"""What a qTest submission journals, and what its queue jobs answer (docs/servers/qtest.md §5).

Journal (by positions in the run's case list, half-open ``a-b`` keys): the intent ``submit``
holds the *waves* — ``{"waves": [{"spans": [[a, b], ...], "at_epoch": t}, ...]}``, declared
once before a wave's first POST and covering every chunk of it (an older entry's intent is
one ``{"start", "end", "at_epoch"}``); ``jobs`` records an accepted job (under each span of
its chunk: a chunk may span gaps, e.g. the tail left by the stream); ``chunks`` a span that
landed. A declared position that is neither landed nor in an accepted job may have been
sent with its answer lost (a broken connection or a 5xx after the POST went out, or a resend
finding the intent): it is looked for on the server before it is ever sent again
(docs/servers/qtest.md §9: no idempotency), so one upload never adds two logs to a run. The step
``stream`` (written by the target, see stream.py) holds the same three kinds of record for what was
submitted while the tests ran, and is read like the journal's own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any, NamedTuple, Protocol

from tmupload.targets.qtest.api import status_name
from tmupload.targets.qtest.readback import ranges

__all__ = [
    "MAX_BYTES",
    "MAX_LOGS",
    "Landed",
    "LogSource",
    "Span",
    "chunk_ranges",
    "failed_job",
    "failure_message",
    "landed_logs",
    "span_key",
    "span_range",
    "spans_of",
]


#: The most logs, and bytes of logs, a chunk carries (docs/servers/qtest.md §4.4: no published
#: limit; "a few hundred logs"); a 413 lowers them for the rest of the submission.
MAX_LOGS = 500
MAX_BYTES = 4 * 1024 * 1024

Span = tuple[int, int]


def span_key(start: int, end: int) -> str:
    return f"{start}-{end}"


def span_range(key: str) -> range:
    start, _, end = key.partition("-")
    return range(int(start), int(end))


def spans_of(data: Iterable[Any]) -> list[Span]:
    """``[[a, b], ...]`` as read from a journal, tolerating junk."""
    spans: list[Span] = []
    for item in data:
        if isinstance(item, (list, tuple)) and len(item) == 2:
            spans.append((int(item[0]), int(item[1])))
    return spans


class LogSource(Protocol):
    """The test logs of one run by position, each built (or encoded) when asked for."""

    def __len__(self) -> int: ...

    def log(self, position: int) -> dict[str, Any]:
        """The whole log (to look for it on the server, or to send it without files)."""
        ...

    def encoded(self, position: int) -> bytes:
        """The log as JSON (UTF-8), as it goes in a chunk."""
        ...

    def content(self, position: int) -> str:
        """Its Automation Content (the case id, see payload.py)."""
        ...


def failure_message(job: dict[str, Any]) -> str:
    """A FAILED job's ``content``: a JSON string ``{message, errors}`` or plain text
    (docs/servers/qtest.md §5)."""
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


def _first(item: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = item.get(key)
        if value not in (None, ""):
            return value
    return None


class Landed(NamedTuple):
    """Where one log landed, as its job said: a tuple, not a dict (a run of a million logs
    keeps one per log until the runs are mapped)."""

    run: str
    status: str
    log: str | None = None


def landed_logs(job: dict[str, Any]) -> dict[str, Landed]:
    """What a SUCCESS job's ``content`` says of each log: Automation Content -> ``run``,
    ``status`` and (when named) ``log``. The keys are [UNCONFIRMED] (docs/servers/qtest.md §5; the
    Jenkins plugin reads ``totalTestLogs`` of its jobs): a list under ``testLogs`` (or
    ``test_logs``, ``logs``) whose items name the content, the run id and its status, in either
    spelling. Anything else gives nothing, and the target reads the runs back instead."""
    data: Any = job.get("content")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return {}
    if not isinstance(data, dict):
        return {}
    items = _first(data, "testLogs", "test_logs", "logs")
    if not isinstance(items, list):
        return {}
    landed: dict[str, Landed] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        content = _first(item, "automation_content", "automationContent")
        run = _first(item, "testRunId", "test_run_id", "runId")
        status = status_name(item)
        if not isinstance(content, str) or run is None or not status:
            continue
        log_id = _first(item, "testLogId", "test_log_id", "logId")
        # A few status names for a million logs: one string each, not one per log.
        landed[content] = Landed(
            str(run), sys.intern(status), str(log_id) if log_id is not None else None
        )
    return landed


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


def failed_job(job_id: str, job: dict[str, Any]) -> str:
    message = failure_message(job)
    hint = "fix the data named above"
    if "status" in message.lower():
        hint = (
            "the status strings must be those mapped in the project's Automation Settings "
            "(Automation Integration): set --tm-status-map, e.g. passed=PASSED,failed=FAILED"
        )
    return f"qTest refused the test logs (queue job {job_id} FAILED): {message} — {hint}"
