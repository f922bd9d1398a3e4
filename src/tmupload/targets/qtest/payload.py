"""RunReport -> qTest automation test logs (docs/servers/qtest.md §4.3): pure functions, no I/O.

One ``AutomationTestLogResource`` per case:

* ``automation_content`` = the case id (the pytest node id): the fingerprint qTest reuses
  test cases and runs by (docs/servers/qtest.md §4.1); it is the same for xdist and reruns, so a
  second upload adds a log to the same run;
* ``name`` = the test's name below its file, classes included (``TestCart::test_total``),
  parameter ids as written (``[€1 000,00]``, not pytest's escaped node id); used only on
  creation;
* ``module_names`` = the node id's path (folders, file, classes), which qTest turns into
  sub-cycles below the parent cycle (docs/servers/qtest.md §4.1);
* ``status`` from the status map (docs/servers/qtest.md §6: the project's automation status
  strings);
* ``exe_start_date``/``exe_end_date``: the session's start, plus the case's duration (the
  model keeps no per-case start);
* ``note``: the failure or skip text, bounded; the case's attachments (files from tests, and
  the captured output per ``--tm-attach``) in ``attachments``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, overload

from tmupload.models import CaseResult, Outcome, RunReport, bound
from tmupload.targets import statusmap
from tmupload.targets.toolkit.notes import how_it_ran
from tmupload.targets.toolkit.places import node_parts

__all__ = [
    "DEFAULT_STATUS_MAP",
    "MAX_NAME",
    "MAX_NOTE",
    "RunLogs",
    "build_fields",
    "build_log",
    "build_logs",
    "format_time",
    "module_path",
    "parse_status_map",
]

#: docs/servers/qtest.md §6: passed -> PASS, failed/error -> FAIL, skipped/xfail -> SKIP. A strict
#: xpass is already ``failed`` in the model; a non-strict xpass counts as a pass.
DEFAULT_STATUS_MAP: dict[str, str] = {
    Outcome.PASSED.value: "PASS",
    Outcome.FAILED.value: "FAIL",
    Outcome.ERROR.value: "FAIL",
    Outcome.SKIPPED.value: "SKIP",
    Outcome.XFAILED.value: "SKIP",
    Outcome.XPASSED.value: "PASS",
}

#: docs/servers/qtest.md §8 bounds cycle names to 500 characters; names and module names are kept
#: within it [inference: the same bound for test case and run names].
MAX_NAME = 500
#: The note's size limit is not published [UNCONFIRMED]; the full text goes in the attachment.
MAX_NOTE = 4000


def parse_status_map(text: str | None, option: str = "--tm-status-map") -> dict[str, str]:
    """``outcome=STATUS,...`` over the defaults; an unknown outcome is a ConfigError."""
    return statusmap.parse_status_map(
        text,
        option,
        DEFAULT_STATUS_MAP,
        example="passed=PASSED,failed=FAILED,skipped=SKIPPED",
        values="the automation status strings of the project's Automation Settings",
    )


def format_time(moment: datetime) -> str:
    """``2025-03-01T10:15:30.000+00:00``: the vendor plugin's form (docs/servers/qtest.md §2)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _short(text: str, case_id: str) -> str:
    text = text.strip() or "(unnamed)"
    if len(text) <= MAX_NAME:
        return text
    digest = hashlib.sha1(case_id.encode("utf-8")).hexdigest()[:12]
    return f"{text[: MAX_NAME - 16]}… #{digest}"


def module_path(case: CaseResult) -> tuple[list[str], str]:
    """(module_names, name): the suite's path segments and classes, then the test's name.

    A pytest node id ``tests/api/test_auth.py::TestLogin::test_ok[x]`` gives
    ``["tests", "api", "test_auth.py", "TestLogin"]`` and ``TestLogin::test_ok[x]``; an
    imported case ``suite::classname::name`` gives the suite (its `` / `` nesting too), the
    classname, then ``classname::name``. The name carries the classes (as the node names on
    ET do), so that two classes' ``test_total`` read apart in a list of runs, and shows
    parameter ids as written (``models.shown_name``). The module names follow the node id
    exactly as before: they place the test case, and they must not move it.
    """
    modules, name = node_parts(case)
    return [_short(module, case.case_id) for module in modules], _short(name, case.case_id)


def _note(case: CaseResult) -> str:
    lines = how_it_ran(case)
    if case.message:
        lines.append(case.message)
    if case.details and case.details.strip() != case.message.strip():
        lines.append(case.details)
    return bound("\n".join(lines), MAX_NOTE)


def build_fields(environment: Mapping[str, str]) -> dict[str, str]:
    """The build that made the run, as every log carries it (docs/servers/qtest.md §4.3:
    ``build_number``, ``build_url``), from the run's environment (ci.py)."""
    fields = {"build_number": environment.get("build"), "build_url": environment.get("build_url")}
    return {key: value for key, value in fields.items() if value}


def build_log(
    case: CaseResult,
    status_map: Mapping[str, str],
    started_at: datetime,
    build: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One ``AutomationTestLogResource`` (docs/servers/qtest.md §4.3) for one case; ``build``:
    build_fields."""
    modules, name = module_path(case)
    log: dict[str, Any] = {
        "name": name,
        "automation_content": case.case_id,
        "module_names": modules,
        "status": status_map[case.outcome.value],
        "exe_start_date": format_time(started_at),
        "exe_end_date": format_time(started_at + timedelta(seconds=max(0.0, case.duration))),
    }
    if build:
        log.update(build)
    note = _note(case)
    if note:
        log["note"] = note
    if case.attachments:
        # docs/servers/qtest.md §4.3 AttachmentResource: name, content_type, base64 data. The files
        # are the outbox entry's copies (see tmupload.attachments), captured output among them.
        log["attachments"] = [
            {
                "name": item.name,
                "content_type": item.content_type,
                "data": base64.b64encode(Path(item.path).read_bytes()).decode("ascii"),
            }
            for item in case.attachments
        ]
    return log


def build_logs(run: RunReport, status_map: Mapping[str, str]) -> list[dict[str, Any]]:
    """The test logs of a run, in the run's order (the journal keys chunks by position)."""
    return list(RunLogs(run, status_map))


class RunLogs(Sequence[dict[str, Any]]):
    """The test logs of a run, in the run's order, each built when it is asked for.

    A log is several times the size of its case (its dates, path and note as new strings, its
    attachments in base64): a run of a million cases cannot hold them all. Building one again
    gives the same log (the attachments are the outbox entry's copies). Besides a sequence
    of logs it is a ``submit.LogSource`` (``log``, ``encoded``, ``content`` by position).
    """

    def __init__(self, run: RunReport, status_map: Mapping[str, str]) -> None:
        self._cases = run.cases
        self._status_map = status_map
        self._started_at = run.started_at
        self._fields = build_fields(run.environment)

    def __len__(self) -> int:
        return len(self._cases)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self._build(case) for case in self._cases[index]]
        return self._build(self._cases[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for case in self._cases:
            yield self._build(case)

    def log(self, position: int) -> dict[str, Any]:
        return self._build(self._cases[position])

    def encoded(self, position: int) -> bytes:
        """The log as it goes in a chunk: JSON, UTF-8."""
        return json.dumps(self.log(position), ensure_ascii=False).encode("utf-8")

    def content(self, position: int) -> str:
        """The log's Automation Content: its case id."""
        return self._cases[position].case_id

    def _build(self, case: CaseResult) -> dict[str, Any]:
        return build_log(case, self._status_map, self._started_at, self._fields)
