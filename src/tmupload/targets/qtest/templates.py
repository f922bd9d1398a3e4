"""qTest's test logs by position, made ahead of time where they can be (payload.py's logs).

A *template* is a log's JSON without its two dates and its closing brace: the stream makes it
as each test ends, before the run's start date is known, and :class:`Dates` completes it.
:class:`RunLogSource` gives the submitter (submit.LogSource) each log of a run: from its
template where the stream made one, else built by ``payload.RunLogs``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from tmupload.models import CaseResult, RunReport
from tmupload.targets.qtest.payload import RunLogs, build_log, format_time

__all__ = ["Dates", "RunLogSource", "digest", "log_template"]

log = logging.getLogger("tmupload.qtest")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def log_template(
    case: CaseResult, status_map: Mapping[str, str], build: Mapping[str, str] | None = None
) -> bytes:
    """The case's test log (payload.build_log) as JSON without its dates and its closing
    brace: :meth:`Dates.suffix` completes it. Only for a case without files."""
    built = build_log(case, status_map, _EPOCH, build)
    if "attachments" in built:
        raise ValueError(f"{case.case_id}: a log with files has no template")
    del built["exe_start_date"], built["exe_end_date"]
    return json.dumps(built, ensure_ascii=False).encode("utf-8")[:-1]


def digest(template: bytes) -> bytes:
    return hashlib.blake2b(template, digest_size=16).digest()


class Dates:
    """The two dates of a log as ``build_log`` writes them (the start, and the start plus the
    case's duration), each end written once per millisecond it falls in."""

    def __init__(self, started_at: datetime) -> None:
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=timezone.utc)
        self.started_at = started_at
        self._base = (started_at - _EPOCH) // _MICROSECOND
        self._start = format_time(started_at)
        self._ends: dict[int, bytes] = {}

    def suffix(self, duration: float) -> bytes:
        delta = timedelta(seconds=max(0.0, duration))
        key = (self._base + delta // _MICROSECOND) // 1000  # isoformat truncates to the ms
        found = self._ends.get(key)
        if found is None:
            end = format_time(self.started_at + delta)
            found = f', "exe_start_date": "{self._start}", "exe_end_date": "{end}"}}'.encode()
            self._ends[key] = found
        return found


class RunLogSource:
    """The run's logs for the submitter (submit.LogSource): built by payload.RunLogs, or
    completed from a template the stream made while the tests ran."""

    def __init__(
        self,
        run: RunReport,
        status_map: Mapping[str, str],
        started_at: datetime | None = None,
        templates: dict[int, bytes] | None = None,
    ) -> None:
        if started_at is not None and started_at != run.started_at:
            run = replace(run, started_at=started_at)
        self._cases = run.cases
        self._logs = RunLogs(run, status_map)
        self._dates = Dates(run.started_at)
        self._templates = templates or {}
        if self._templates:
            # A template is the log minus its dates: if payload.py ever wrote them otherwise,
            # one sample shows it, and every log is built whole instead.
            sample = next(iter(self._templates))
            if json.loads(self.encoded(sample)) != self._logs[sample]:
                log.warning("the logs prepared during the tests differ from payload.build_log")
                self._templates = {}

    def __len__(self) -> int:
        return len(self._cases)

    def log(self, position: int) -> dict[str, Any]:
        return self._logs[position]

    def encoded(self, position: int) -> bytes:
        template = self._templates.get(position)
        if template is not None:
            return template + self._dates.suffix(self._cases[position].duration)
        return json.dumps(self._logs[position], ensure_ascii=False).encode("utf-8")

    def content(self, position: int) -> str:
        return self._cases[position].case_id
