"""Fold pytest's per-phase reports into one CaseResult per test (pure: no I/O).

pytest reports every test up to three times (setup, call, teardown) and a rerun plugin adds
whole extra attempts whose failing report has the outcome ``"rerun"``. The folding follows
``_pytest/junitxml.py``: a setup or teardown failure is an *error*, a call failure a
*failure*, and a call failure followed by a teardown error stays one failed case that keeps
the teardown text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest

from tmupload.models import (
    Attempt,
    CaseResult,
    Outcome,
    RunReport,
    TicketRef,
    bound,
    unescape_test_id,
)
from tmupload.properties import FIXTURE_PROPERTY
from tmupload.tickets import TICKET_LINK_PROPERTY, TICKET_PROPERTY

__all__ = ["RunBuilder", "split_nodeid"]


def split_nodeid(nodeid: str, *, ids_escaped: bool = True) -> tuple[str, str, str]:
    """Return (suite, name, classname) for a pytest node id.

    The suite is the file path, the name is the rest of the node id (``Class::test[param]``),
    so two classes in one file with the same test name stay distinct, with pytest's escaping
    of non-ASCII parameter ids undone (``test[\\u20ac]`` -> ``test[€]``) unless the session
    turned that escaping off (``ids_escaped=False``). The classname follows junitxml's
    mangling (``dir.test_mod.Class``) for readers that expect it.
    """
    path, sep, rest = nodeid.partition("::")
    if not sep:
        return path, path, ""
    parts = rest.split("::")
    module = path[:-3] if path.endswith(".py") else path
    classname = ".".join([module.replace("/", ".").replace("\\", "."), *parts[:-1]])
    return path, unescape_test_id(rest) if ids_escaped else rest, classname


#: The line pytest writes first in the text of a report with a ``node`` (xdist's controller
#: sets one on every report from a worker, ``_pytest.reports.getworkerinfoline``):
#: ``[gw0] linux -- Python 3.11.7 /path/to/python``.
_WORKER_LINE = re.compile(r"\[[^\]\n]+\] [^\n]* -- Python [^\n]*")


def _longrepr_text(report: pytest.TestReport) -> str:
    """The report's failure text (``longreprtext``) without xdist's worker line: the text a
    serial session gives, so that every server's note starts with the failure."""
    text = str(getattr(report, "longreprtext", "") or "")
    if getattr(report, "node", None) is None:
        return text
    first, _, rest = text.partition("\n")
    return rest.strip() if _WORKER_LINE.fullmatch(first) else text


def _crash_message(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, lineno, reason)
        reason = str(longrepr[2])
        return reason.removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message).splitlines()[0] if crash.message else ""
    text = _longrepr_text(report) or str(longrepr)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _failed(state: _Pending, report: pytest.TestReport, outcome: Outcome, phase: str) -> None:
    state.outcome = outcome
    state.failed_phase = phase
    state.message = _crash_message(report)
    state.details.append(_longrepr_text(report))


def _skipped(state: _Pending, report: pytest.TestReport) -> None:
    """A skip in setup (marker) or call (``pytest.skip``), or an xfail reported as a skip."""
    if hasattr(report, "wasxfail"):
        state.outcome = Outcome.XFAILED
        state.message = str(report.wasxfail) or _crash_message(report)
        if report.when == "call":
            state.details.append(_longrepr_text(report))
    else:
        state.outcome = Outcome.SKIPPED
        state.message = _crash_message(report)


@dataclass
class _Pending:
    """What is known so far about one test's current attempt."""

    nodeid: str
    outcome: Outcome | None = None
    failed_phase: str | None = None
    message: str = ""
    details: list[str] = field(default_factory=list)
    duration: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    user_properties: list[tuple[str, Any]] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    log: str = ""
    done: bool = False
    earlier_files: dict[str, int] = field(default_factory=dict)  # tm_attach value -> attempt


class RunBuilder:
    """Collects reports (on the xdist controller, or in a plain session) into a RunReport."""

    def __init__(
        self, *, max_output: int = 65536, xfail_as: str = "skipped", ids_escaped: bool = True
    ) -> None:
        self._max_output = max_output
        self._xfail_as = xfail_as
        # Whether pytest escaped non-ASCII parameter ids (its default): names undo it.
        self._ids_escaped = ids_escaped
        self._pending: dict[tuple[str, Any], _Pending] = {}
        # Cases made final by ``finish`` (as each test ends), so the session end only has to
        # make the ones still open (an interrupted session) and the run costs nothing to build.
        self._final: dict[tuple[str, Any], CaseResult] = {}
        self._keys: dict[str, list[tuple[str, Any]]] = {}  # node id -> its keys (per worker)

    def add(self, report: pytest.TestReport) -> None:
        """Take one ``TestReport`` (from ``pytest_runtest_logreport``)."""
        # Key by worker too, as junitxml does: with xdist the same nodeid may be reported by
        # a worker that crashed and then by the one that re-ran it.
        worker = getattr(getattr(report, "node", None), "gateway", None)
        key = (report.nodeid, getattr(worker, "id", None))
        state = self._pending.get(key)
        self._final.pop(key, None)  # a report after the end (a worker crash): made again
        if state is None:
            self._keys.setdefault(report.nodeid, []).append(key)
        if state is None or state.done:
            attempts = state.attempts if state is not None else []
            earlier = state.earlier_files if state is not None else {}
            state = _Pending(report.nodeid, attempts=attempts, earlier_files=earlier)
            self._pending[key] = state
        state.duration += float(getattr(report, "duration", 0.0) or 0.0)
        state.user_properties = list(getattr(report, "user_properties", None) or ())

        when = getattr(report, "when", None)
        # pytest-rerunfailures reports an attempt that will run again as "rerun", an outcome
        # pytest's own type does not list.
        if str(report.outcome) == "rerun":
            # This attempt failed and will run again: remember it, start the next one fresh.
            phase_outcome = Outcome.FAILED if when == "call" else Outcome.ERROR
            state.attempts.append(
                Attempt(
                    outcome=phase_outcome,
                    message=_crash_message(report),
                    duration=state.duration,
                )
            )
            # Files attached so far belong to this attempt (user properties accumulate on the
            # item across reruns): the final result names them as an earlier attempt's.
            for name, value in state.user_properties:
                if name == FIXTURE_PROPERTY and value not in state.earlier_files:
                    state.earlier_files[str(value)] = len(state.attempts)
            self._pending[key] = _Pending(
                report.nodeid, attempts=state.attempts, earlier_files=state.earlier_files
            )
            return
        if when == "setup":
            self._setup(state, report)
        elif when == "call":
            self._call(state, report)
        elif when == "teardown":
            self._teardown(state, report)
            self._finish(state, report)
        else:  # e.g. xdist's report for a crashed worker
            state.outcome = Outcome.ERROR
            state.failed_phase = str(when)
            state.message = _crash_message(report) or "the test did not finish"
            state.details.append(_longrepr_text(report))
            self._finish(state, report)

    def clear(self) -> None:
        """Forget every report and case (after the upload: nothing here is needed again)."""
        self._pending.clear()
        self._final.clear()
        self._keys.clear()

    def finish(self, nodeid: str) -> list[CaseResult]:
        """Make the cases of ``nodeid`` final (``pytest_runtest_logfinish``: every attempt of a
        rerun test has been reported) and return them; empty while its last report is missing.
        """
        made: list[CaseResult] = []
        for key in self._keys.get(nodeid, ()):
            state = self._pending[key]
            # No outcome yet: an attempt that will run again (pytest-rerunfailures calls the
            # hook after every attempt) or one cut short; the session end decides those.
            if state.done and state.outcome is not None and key not in self._final:
                self._final[key] = case = self._case(state)
                made.append(case)
        return made

    def take(self, nodeid: str) -> list[CaseResult]:
        """Like :meth:`finish`, for a session that writes each case as its test ends: the
        cases made final are forgotten here, so the session holds none of them."""
        made: list[CaseResult] = []
        keys = self._keys.get(nodeid)
        if not keys:
            return made
        for key in list(keys):
            state = self._pending.get(key)
            if state is not None and state.done and state.outcome is not None:
                made.append(self._case(state))
                del self._pending[key]
                keys.remove(key)
        if not keys:
            del self._keys[nodeid]
        return made

    def unfinished(self) -> list[CaseResult]:
        """The cases whose test never finished (an interrupted session): errors."""
        return [self._case(state) for state in self._pending.values()]

    def _finish(self, state: _Pending, report: pytest.TestReport) -> None:
        # The last report of a test carries the captured sections of every phase, so they are
        # read once, here (each is a property computed from the report's sections).
        for attr, target in (("capstdout", "stdout"), ("capstderr", "stderr"), ("caplog", "log")):
            value = getattr(report, attr, "") or ""
            if value:
                setattr(state, target, value)
        state.done = True

    def _setup(self, state: _Pending, report: pytest.TestReport) -> None:
        if report.outcome == "failed":
            _failed(state, report, Outcome.ERROR, "setup")
        elif report.outcome == "skipped":
            _skipped(state, report)

    def _call(self, state: _Pending, report: pytest.TestReport) -> None:
        if report.outcome == "passed":
            xpassed = hasattr(report, "wasxfail")
            state.outcome = Outcome.XPASSED if xpassed else Outcome.PASSED
            if xpassed:
                state.message = str(report.wasxfail)
        elif report.outcome == "failed":  # a strict xpass arrives here too
            _failed(state, report, Outcome.FAILED, "call")
        elif report.outcome == "skipped":
            _skipped(state, report)

    def _teardown(self, state: _Pending, report: pytest.TestReport) -> None:
        if report.outcome != "failed":
            return
        text = _longrepr_text(report)
        if state.outcome is not None and state.outcome.is_failure:
            state.details.append("--- error in teardown ---\n" + text)
            return
        state.outcome = Outcome.ERROR
        state.failed_phase = "teardown"
        state.message = _crash_message(report)
        state.details.append(text)

    def build(
        self,
        *,
        name: str,
        started_at: datetime,
        finished_at: datetime,
        environment: dict[str, str] | None = None,
    ) -> RunReport:
        """Turn everything collected so far into a RunReport, in the order tests reported."""
        final = self._final
        cases = [final.get(key) or self._case(state) for key, state in self._pending.items()]
        return RunReport(
            name=name,
            started_at=started_at,
            finished_at=finished_at,
            environment=environment or {},
            cases=cases,
        )

    def _case(self, state: _Pending) -> CaseResult:
        outcome = state.outcome
        message = state.message
        if outcome is None:
            # Setup passed and nothing else arrived: the session was interrupted mid-test.
            outcome = Outcome.ERROR
            message = message or "the test did not finish (interrupted or worker crashed)"
        if outcome is Outcome.XFAILED and self._xfail_as == "passed":
            outcome = Outcome.PASSED
        suite, name, classname = split_nodeid(state.nodeid, ids_escaped=self._ids_escaped)
        tickets, properties = _split_properties(state.user_properties)
        if state.earlier_files:
            properties = [_mark_attempt(item, state.earlier_files) for item in properties]
        limit = self._max_output
        return CaseResult(
            case_id=state.nodeid,
            suite=suite,
            name=name,
            classname=classname,
            outcome=outcome,
            duration=round(state.duration, 6),
            message=bound(message, 2000),
            details=bound("\n".join(part for part in state.details if part), limit),
            stdout=bound(state.stdout, limit),
            stderr=bound(state.stderr, limit),
            log=bound(state.log, limit),
            failed_phase=state.failed_phase,
            # An empty list would cost each case its own object: the shared () instead.
            attempts=state.attempts or (),
            tickets=tickets or (),
            properties=properties or (),
        )


def _split_properties(
    user_properties: list[tuple[str, Any]],
) -> tuple[list[TicketRef], list[tuple[str, str]]]:
    keys: list[str] = []
    system: str | None = None
    properties: list[tuple[str, str]] = []
    for item in user_properties:
        try:
            name, value = item
        except (TypeError, ValueError):
            continue
        if name == TICKET_PROPERTY:
            if str(value) not in keys:
                keys.append(str(value))
        elif name == TICKET_LINK_PROPERTY:
            system = str(value)
        else:
            properties.append((str(name), str(value)))
    return [TicketRef(key=key, external_system_link=system) for key in keys], properties


def _mark_attempt(item: tuple[str, str], earlier: dict[str, int]) -> tuple[str, str]:
    name, value = item
    attempt = earlier.get(value) if name == FIXTURE_PROPERTY else None
    if attempt is None:
        return item
    data = json.loads(value)
    data["attempt"] = attempt
    return name, json.dumps(data)
