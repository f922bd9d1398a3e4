"""The qTest stream (stream.py): logs submitted while the tests run, on an xdist controller,
and what the session end, a failed session end and a resend then do with them.

End to end: real pytest sessions (subprocess) against the emulator on a loopback socket. The
child session lowers ``submit.MAX_LOGS`` and ``stream.FLUSH_AFTER`` in a ``sitecustomize`` on
its import path (the stream runs in the courier, a process the session starts), and its
last test (the *observer*, collected last so that it runs after every other test was handed
to a worker) waits for the other tests to finish, then records what the server holds while
it, a test of the session, still runs: that is, before the session end.

Unit level: the target and its stream against the emulator in process (or on a socket).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from qtest_target_helpers import SITE, STARTED, QLive, qlive, start_qtest
from qtest_target_helpers import settings_for as _settings

from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import resend, upload
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.properties import FIXTURE_PROPERTY
from tmupload.targets.base import quiet
from tmupload.targets.qtest import stream as stream_module
from tmupload.targets.qtest import submit
from tmupload.targets.qtest.api import QTestApi, qtest_client
from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig
from tmupload.targets.qtest.payload import parse_status_map
from tmupload.targets.qtest.placement import resolve_placement
from tmupload.targets.qtest.stream import QTestStream
from tmupload.targets.qtest.target import QTestTarget
from tmupload.targets.qtest.templates import RunLogSource
from tmupload.targets.toolkit.memory import MemoryJournal
from tmupload.targets.toolkit.steps import STREAM

__all__ = ["qlive", "start_qtest"]  # fixtures used here

SUBMIT = "/auto-test-logs"


# -- the child session -----------------------------------------------------------------------

CHILD_MAX_LOGS = 5
CHILD_FLUSH_AFTER = 0.3
PASSING = 20
SKIPPED = 3

#: Imported at start by every Python process of the child session (pytest's and the
#: courier's): smaller chunks, sooner.
CHILD_KNOBS = """
import tmupload.targets.qtest.stream as stream
import tmupload.targets.qtest.submit as submit

submit.MAX_LOGS = {max_logs}
stream.FLUSH_AFTER = {flush_after}
"""

CHILD_CONFTEST = """
import pathlib

import pytest

MARKS = pathlib.Path({marks!r})


@pytest.fixture(autouse=True)
def _mark_finished(request):
    yield
    if request.node.name != "test_zz_observer":
        MARKS.mkdir(exist_ok=True)
        (MARKS / request.node.name).touch()
"""

CHILD_SUITE = f"""
import pytest


@pytest.mark.parametrize("n", range({PASSING}))
def test_pass(n):
    pass


@pytest.mark.parametrize("n", range({SKIPPED}))
def test_skip(n):
    pytest.skip("not here")


@pytest.mark.xfail(reason="known bug", strict=True)
def test_xfail():
    assert False


@pytest.mark.parametrize("n", range(2))
def test_fail_with_output(n):
    print(f"output of failing test {{n}}")
    assert n == 99
"""

#: Waits (at most 20 s) until every other test finished and, when ``STREAMED`` is not empty,
#: until those logs are on the server; lets ``SETTLE`` seconds pass (several FLUSH_AFTER, so a
#: log the stream wrongly held would have gone), then writes what the server holds.
CHILD_OBSERVER = """
def _call(path, body=None):
    request = urllib.request.Request(URL + path, data=body, method="POST" if body else "GET")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def test_zz_observer():
    deadline = time.monotonic() + 20.0
    ready = False
    while time.monotonic() < deadline:
        finished = len(list(MARKS.iterdir())) if MARKS.exists() else 0
        runs = {run["automation_content"] for run in _call("/_emulator/state")["test_runs"]}
        if finished >= OTHERS and set(STREAMED) <= runs:
            ready = True
            break
        time.sleep(0.05)
    time.sleep(SETTLE)
    state = _call("/_emulator/state")
    seen = {
        "ready": ready,
        "logs": {run["automation_content"]: len(run["logs"]) for run in state["test_runs"]},
        "requests": _call("/_emulator/requests"),
    }
    OUT.write_text(json.dumps(seen), encoding="utf-8")
    if FAULTS:
        _call("/_emulator/faults", json.dumps(FAULTS).encode())
"""

FAILING = {f"test_many.py::test_fail_with_output[{n}]" for n in range(2)}
STREAMABLE = {
    *(f"test_many.py::test_pass[{n}]" for n in range(PASSING)),
    *(f"test_many.py::test_skip[{n}]" for n in range(SKIPPED)),
    "test_many.py::test_xfail",
}
OBSERVER = "test_zz_last.py::test_zz_observer"
EXPECTED = {
    **dict.fromkeys(STREAMABLE, "PASS"),
    **{f"test_many.py::test_skip[{n}]": "SKIP" for n in range(SKIPPED)},
    "test_many.py::test_xfail": "SKIP",
    **dict.fromkeys(FAILING, "FAIL"),
    OBSERVER: "PASS",
}


def _child_session(
    pytester: pytest.Pytester,
    live: QLive,
    tmp_path: Path,
    *,
    streamed: set[str],
    faults: dict[str, Any] | None = None,
    workers: int = 2,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run the child session; return its result and what the observer saw."""
    marks, seen = tmp_path / "marks", tmp_path / "observed.json"
    knobs = tmp_path / "knobs"
    knobs.mkdir()
    (knobs / "sitecustomize.py").write_text(
        CHILD_KNOBS.format(max_logs=CHILD_MAX_LOGS, flush_after=CHILD_FLUSH_AFTER)
    )
    monkeypatch.setenv("PYTHONPATH", str(knobs))
    pytester.makeconftest(CHILD_CONFTEST.format(marks=str(marks)))
    pytester.makepyfile(test_many=CHILD_SUITE)
    constants = (
        "import json\nimport pathlib\nimport time\nimport urllib.request\n\n"
        f"URL = {live.url!r}\n"
        f"MARKS = pathlib.Path({str(marks)!r})\n"
        f"OUT = pathlib.Path({str(seen)!r})\n"
        f"OTHERS = {len(EXPECTED) - 1}\n"
        f"STREAMED = {sorted(streamed)!r}\n"
        f"SETTLE = {4 * CHILD_FLUSH_AFTER}\n"
        f"FAULTS = {faults!r}\n"
    )
    pytester.makepyfile(test_zz_last=constants + "\n" + CHILD_OBSERVER)
    extra = ["-n", str(workers)] if workers else []
    result = pytester.runpytest_subprocess(
        *live.args(tmp_path, "--rootdir", str(pytester.path), "-p", "no:randomly", *extra)
    )
    return result, json.loads(seen.read_text(encoding="utf-8"))


def _log_counts(live: QLive) -> Counter[str]:
    """Automation Content -> test logs on the server (over every run holding it)."""
    return Counter(run["automation_content"] for run in live.runs() for _ in run["logs"])


def _submits(requests: list[list[Any]] | list[tuple[str, str, int]]) -> list[int]:
    return [status for method, path, status in requests if method == "POST" and SUBMIT in path]


def _start_dates(runs: list[dict[str, Any]]) -> set[str]:
    return {log["exe_start_date"] for run in runs for log in run["logs"]}


def _assert_complete(live: QLive) -> None:
    """Every result of the child session exactly once, with its status; the failing ones
    with their captured output as a file."""
    assert _log_counts(live) == dict.fromkeys(EXPECTED, 1)
    runs = live.by_content()
    assert {content: run["logs"][0]["automation_status"] for content, run in runs.items()} == (
        EXPECTED
    )
    for content in FAILING:
        (attachment,) = runs[content]["logs"][0]["attachments"]
        assert attachment["name"] == "output.txt"
        data = httpx.get(f"{live.url}/_emulator/attachments/{attachment['id']}").content
        assert f"output of failing test {content[-2]}".encode() in data
    # The logs sent while the tests ran and those sent at the end are dated alike.
    assert len(_start_dates(live.runs())) == 1


def test_an_xdist_session_submits_chunks_while_the_tests_run_and_each_result_lands_once(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, seen = _child_session(
        pytester, qlive, tmp_path, streamed=STREAMABLE, monkeypatch=monkeypatch
    )
    assert result.ret == 1  # two tests fail on purpose; the upload succeeded
    result.stdout.fnmatch_lines([f"*uploaded {len(EXPECTED)} results to qTest Manager*"])
    # While the observer (a test of the session) ran, every result the stream may send was
    # already on the server, once, in more than one submission ...
    assert seen["ready"], seen
    assert {content: seen["logs"].get(content) for content in STREAMABLE} == dict.fromkeys(
        STREAMABLE, 1
    )
    early = _submits(seen["requests"])
    assert len(early) >= 2 and set(early) == {201}, early
    # ... and none that carries a file (the failing tests' captured output).
    assert not FAILING & set(seen["logs"]), seen["logs"]
    _assert_complete(qlive)
    # The session end sent only what was left: the failing tests and the observer.
    tail = _submits(qlive.emulator.requests)[len(early) :]
    assert 1 <= len(tail) <= 2 and set(tail) == {201}, tail
    assert Outbox(tmp_path / "outbox").entries() == []


def test_a_serial_session_submits_while_the_tests_run_too(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stream runs in the courier, where no test can mock httpx: a serial session's
    # results go out while its tests run, as under xdist.
    result, seen = _child_session(
        pytester, qlive, tmp_path, streamed=STREAMABLE, workers=0, monkeypatch=monkeypatch
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"*uploaded {len(EXPECTED)} results to qTest Manager*"])
    assert seen["ready"], seen
    assert {content: seen["logs"].get(content) for content in STREAMABLE} == dict.fromkeys(
        STREAMABLE, 1
    )
    assert len(_submits(seen["requests"])) >= 2
    _assert_complete(qlive)


def test_a_failed_session_end_after_streaming_is_finished_by_resend_sending_nothing_twice(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Once the stream's chunks landed, the observer makes the server refuse every POST: the
    # session end's first submission fails.
    refuse = {"fail_next": [403] * 50, "only_methods": ["POST"]}
    result, seen = _child_session(
        pytester, qlive, tmp_path, streamed=STREAMABLE, faults=refuse, monkeypatch=monkeypatch
    )
    assert seen["ready"], seen
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*upload FAILED*", "*tmupload resend*"])
    assert _log_counts(qlive) == dict.fromkeys(STREAMABLE, 1)
    (entry,) = Outbox(tmp_path / "outbox").entries()
    # What the stream sent is in the entry's journal, in the run's positions.
    step = entry.journal.done(STREAM)
    assert step is not None, entry.journal.summary()
    run = entry.run()
    positions = {case.case_id: p for p, case in enumerate(run.cases)}
    landed = {p for start, end in step["chunks"] for p in range(start, end)}
    assert {positions[content] for content in STREAMABLE} <= landed
    assert not {positions[content] for content in FAILING} & landed

    qlive.emulator.configure_faults()
    # The session end's refused submission was declared before its POST: the resend looks
    # for it once instead of waiting for a queue that could still land it.
    monkeypatch.setattr(submit, "LOOK_GRACE", 0.0)
    before = len(_submits(qlive.emulator.requests))
    settings = _settings(tmp_path, url=qlive.url)
    (outcome,) = resend(settings)
    assert outcome.ok, outcome.error
    assert Outbox(tmp_path / "outbox").entries() == []
    _assert_complete(qlive)
    # The resend submitted only the tail (the failing tests, the observer): one chunk.
    assert _submits(qlive.emulator.requests)[before:] == [201]


# -- the target and its stream, the emulator in process (or on a socket) --------------------


def _in_process() -> tuple[Emulator, httpx.WSGITransport]:
    emulator = Emulator(EmulatorConfig(job_delay=0.0))
    return emulator, httpx.WSGITransport(app=emulator)


def _case(name: str, outcome: Outcome = Outcome.PASSED, **fields: Any) -> CaseResult:
    suite = "tests/test_stream.py"
    return CaseResult(case_id=f"{suite}::{name}", suite=suite, name=name, outcome=outcome, **fields)


def _run(*cases: CaseResult) -> RunReport:
    return RunReport(name="streamed", started_at=STARTED, finished_at=STARTED, cases=list(cases))


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class _CountingTransport(httpx.BaseTransport):
    """A transport that knows when none of its requests is under way (the stream sends from
    its own thread), so a test can wait for that rather than for time to pass."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner
        self._busy = 0
        self._changed = threading.Condition()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._changed:
            self._busy += 1
        try:
            return self._inner.handle_request(request)
        finally:
            with self._changed:
                self._busy -= 1
                self._changed.notify_all()

    def wait_idle_until(self, condition: Callable[[], bool], what: str) -> None:
        """Until ``condition`` holds while no request is under way (re-checked after each)."""
        with self._changed:
            done = self._changed.wait_for(lambda: self._busy == 0 and condition(), timeout=10.0)
        assert done, f"timed out waiting for {what}"


def _logs(emulator: Emulator) -> dict[str, list[dict[str, Any]]]:
    """Automation Content -> its test logs, oldest first, over every run holding it."""
    found: dict[str, list[dict[str, Any]]] = {}
    for run in emulator.snapshot()["test_runs"]:
        found.setdefault(run["automation_content"], []).extend(run["logs"])
    return found


def _on_server(emulator: Emulator, *cases: CaseResult) -> Callable[[], bool]:
    return lambda: {case.case_id for case in cases} <= set(_logs(emulator))


@pytest.fixture
def open_stream() -> Iterator[Callable[[QTestTarget], QTestStream]]:
    """A sending stream of a target (its thread stopped after the test, whatever happens)."""
    opened: list[QTestStream] = []

    def open_one(target: QTestTarget) -> QTestStream:
        stream = target.stream(may_send=True)
        assert stream.may_send
        opened.append(stream)
        return stream

    yield open_one
    for stream in opened:
        stream.end()


def test_a_case_that_came_again_lands_with_its_final_outcome_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_stream: Callable[[QTestTarget], QTestStream],
) -> None:
    monkeypatch.setattr(submit, "MAX_LOGS", 2)
    monkeypatch.setattr(stream_module, "FLUSH_AFTER", 60.0)  # only full chunks go early
    emulator, transport = _in_process()
    settings = _settings(tmp_path, attach="none")  # a failure carries no file: it streams
    target = QTestTarget(settings, transport=transport)
    stream = open_stream(target)
    a, b = _case("test_a", duration=0.25), _case("test_b")
    x_crashed = _case("test_x", Outcome.FAILED, message="worker 'gw0' crashed")
    x_final = _case("test_x", duration=1.5)
    y_first = _case("test_y", Outcome.FAILED, message="first try")
    y_final = _case("test_y", duration=0.5)

    stream.add(x_crashed)
    stream.add(a)  # a full chunk: sent while the tests run
    _wait_for(_on_server(emulator, x_crashed, a), "the first chunk")
    stream.add(y_first)
    stream.add(y_final)  # came again before it was sent: the first is never sent
    stream.add(b)  # a full chunk (y_first is out of it)
    _wait_for(_on_server(emulator, b), "the second chunk")
    stream.add(x_final)  # came again after it was sent
    early = len(_submits(emulator.requests))
    assert early == 2
    assert set(_logs(emulator)) == {a.case_id, b.case_id, x_crashed.case_id}

    outcome = upload(_run(b, x_final, a, y_final), settings, target=target)
    assert outcome.ok, outcome.error
    statuses = {
        case_id: [log["automation_status"] for log in logs]
        for case_id, logs in _logs(emulator).items()
    }
    assert statuses == {
        a.case_id: ["PASS"],
        b.case_id: ["PASS"],
        y_final.case_id: ["PASS"],
        # The log sent for the crashed attempt stays as an earlier log; the final one is
        # the latest, once.
        x_final.case_id: ["FAIL", "PASS"],
    }
    assert _submits(emulator.requests)[early:] == [201]  # only the tail: x and y
    delivery = outcome.delivery
    assert delivery is not None
    assert {case_id: ref.status for case_id, ref in delivery.results.items()} == dict.fromkeys(
        statuses, "Passed"
    )
    assert delivery.totals == {"passed": 4}
    runs = emulator.snapshot()["test_runs"]
    assert len(_start_dates(runs)) == 1  # streamed and tail logs carry one start date


def test_a_case_with_files_is_not_sent_early_and_lands_with_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_stream: Callable[[QTestTarget], QTestStream],
) -> None:
    monkeypatch.setattr(submit, "MAX_LOGS", 2)
    monkeypatch.setattr(stream_module, "FLUSH_AFTER", 0.2)
    emulator, in_process = _in_process()
    transport = _CountingTransport(in_process)
    settings = _settings(tmp_path)  # --tm-attach output (the default)
    target = QTestTarget(settings, transport=transport)
    stream = open_stream(target)
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG fake")
    failed = _case(
        "test_failed",
        Outcome.FAILED,
        message="AssertionError: 1 != 2",
        details="def test_failed():\n>   assert 1 == 2",
        stdout="captured line\n",
    )
    declared = _case(
        "test_declared",
        properties=[(FIXTURE_PROPERTY, json.dumps({"path": str(shot), "name": "shot.png"}))],
    )
    p1, p2, p3 = _case("test_p1"), _case("test_p2"), _case("test_p3")

    for case in (failed, declared, p1, p2, p3):
        stream.add(case)
    # The stream sends in the order the cases came: a case with files it had wrongly taken
    # would have gone before p3, which waited FLUSH_AFTER; so once p1-p3 are on the server
    # and no request is under way, whatever the stream sent early is there.
    transport.wait_idle_until(_on_server(emulator, p1, p2, p3), "the logs without files")
    assert set(_logs(emulator)) == {p1.case_id, p2.case_id, p3.case_id}
    early = len(_submits(emulator.requests))  # a full chunk, then what waited FLUSH_AFTER

    outcome = upload(_run(failed, declared, p1, p2, p3), settings, target=target)
    assert outcome.ok, outcome.error
    logs = _logs(emulator)
    assert {case_id: len(found) for case_id, found in logs.items()} == dict.fromkeys(
        (failed.case_id, declared.case_id, p1.case_id, p2.case_id, p3.case_id), 1
    )
    assert _submits(emulator.requests)[early:] == [201]
    with httpx.Client(transport=transport, base_url=SITE) as http:

        def attached(case: CaseResult) -> dict[str, bytes]:
            (log,) = logs[case.case_id]
            return {
                item["name"]: http.get(f"/_emulator/attachments/{item['id']}").content
                for item in log["attachments"]
            }

        output = attached(failed)
        assert list(output) == ["output.txt"]
        assert b"captured line" in output["output.txt"]
        assert b"assert 1 == 2" in output["output.txt"]
        assert attached(declared) == {"shot.png": b"\x89PNG fake"}
        assert attached(p1) == {}
    assert outcome.delivery is not None
    assert {(item.case_id, item.status) for item in outcome.delivery.attachments} == {
        (failed.case_id, "sent"),
        (declared.case_id, "sent"),
    }


def test_a_chunk_whose_answer_was_lost_while_the_tests_ran_is_found_not_sent_again(
    qlive: QLive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_stream: Callable[[QTestTarget], QTestStream],
) -> None:
    monkeypatch.setattr(submit, "MAX_LOGS", 2)
    monkeypatch.setattr(stream_module, "FLUSH_AFTER", 60.0)
    settings = _settings(tmp_path, url=qlive.url)
    target = QTestTarget(settings)  # a real socket: a dropped connection is a lost answer
    stream = open_stream(target)
    cases = [_case(f"test_{n}", duration=n / 10) for n in range(5)]
    stream.add(cases[0])
    stream.add(cases[1])
    _wait_for(_on_server(qlive.emulator, *cases[:2]), "the first chunk")
    qlive.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})
    stream.add(cases[2])
    stream.add(cases[3])  # applied by the server, its answer lost
    _wait_for(lambda: _submits(qlive.emulator.requests) == [201, 0], "the lost answer")
    stream.add(cases[4])

    outcome = upload(_run(*reversed(cases)), settings, target=target)
    assert outcome.ok, outcome.error
    assert _log_counts(qlive) == {case.case_id: 1 for case in cases}
    # Looked for, found: only the last case went at the session end.
    assert _submits(qlive.emulator.requests) == [201, 0, 201]
    assert len(_start_dates(qlive.runs())) == 1


def test_a_chunk_spanning_gaps_is_one_post_and_a_resume_polls_its_job(tmp_path: Path) -> None:
    """What the stream leaves is spread over the run (the failures, say): it goes in full
    chunks, not one per gap; each span is journaled under the chunk's job, so a resume after
    the POST polls that job and sends none of its logs again."""
    emulator, transport = _in_process()
    settings = _settings(tmp_path)
    cases = [_case(f"test_{n}") for n in range(5)]
    logs = RunLogSource(_run(*cases), parse_status_map(None))
    journal = MemoryJournal()
    with qtest_client(settings, transport=transport) as http:
        api = QTestApi(http)
        placed = resolve_placement(
            api, project="Demo", cycle_path="CI/main", release=None, create=True
        )
        assert placed.cycle_id is not None
        first = submit.Submitter(api, placed.project_id, placed.cycle_id, logs, journal, quiet)
        first.send([0, 2, 4])
        assert _submits(emulator.requests) == [201]
        jobs = journal.items(submit.JOBS)
        assert set(jobs) == {"0-1", "2-3", "4-5"}
        assert len({data["job"] for data in jobs.values()}) == 1

        again = submit.Submitter(api, placed.project_id, placed.cycle_id, logs, journal, quiet)
        again.run()
    assert again.done == set(range(5))
    assert _submits(emulator.requests) == [201, 201]  # the rest, 1 and 3: one chunk
    assert {case_id: len(found) for case_id, found in _logs(emulator).items()} == {
        case.case_id: 1 for case in cases
    }


class _GatedTransport(httpx.BaseTransport):
    """The emulator behind a gate: the first test-log POST waits until the test opens it,
    as a slow server keeps the stream waiting while results pile up."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.held = threading.Event()
        self.sent: list[str] = []  # "POST logs" / "GET job", in the order they went out

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and SUBMIT in request.url.path:
            self.sent.append("POST logs")
            if not self.held.is_set():
                self.held.set()
                assert self.gate.wait(10.0), "the test never opened the gate"
        elif "queue-processing" in request.url.path:
            self.sent.append("GET job")
        return self.inner.handle_request(request)


def test_results_that_piled_up_behind_a_slow_answer_go_in_one_wave(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    open_stream: Callable[[QTestTarget], QTestStream],
) -> None:
    """Against a server that takes its time, the stream does not send one chunk and then
    glance at the jobs before the next: what waits goes out chunk after chunk (so the
    backlog left for the session end stays small), and everything lands once."""
    monkeypatch.setattr(submit, "MAX_LOGS", 2)
    monkeypatch.setattr(stream_module, "FLUSH_AFTER", 60.0)  # only full chunks go early
    emulator, inner = _in_process()
    gated = _GatedTransport(inner)
    settings = _settings(tmp_path, attach="none")
    target = QTestTarget(settings, transport=gated)
    stream = open_stream(target)
    cases = [_case(f"test_{n:02}") for n in range(12)]

    stream.add(cases[0])
    stream.add(cases[1])  # a full chunk: its POST is held by the slow server
    assert gated.held.wait(10.0)
    for case in cases[2:]:  # 10 more results (5 chunks) arrive meanwhile
        stream.add(case)
    gated.gate.set()
    _wait_for(_on_server(emulator, *cases), "the piled-up results")

    # The held chunk, then one wave of 4 chunks (WAVE_CHUNKS) with no glance at the jobs
    # between them, then the fifth.
    posts_before_first_glance = gated.sent.index("GET job") if "GET job" in gated.sent else 99
    assert posts_before_first_glance >= 1 + stream_module.WAVE_CHUNKS
    assert gated.sent.count("POST logs") == 6
    outcome = upload(_run(*cases), settings, target=target)
    assert outcome.ok, outcome.error
    assert {case_id: len(logs) for case_id, logs in _logs(emulator).items()} == {
        case.case_id: 1 for case in cases
    }
    assert gated.sent.count("POST logs") == 6  # nothing was left for the session end
