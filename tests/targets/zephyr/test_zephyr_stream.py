"""The Zephyr target's work before the session end (``prepare`` and ``stream``, stream.py):
the repository made while the tests run (by the courier, serial or under xdist); a second
run, a case that moved, a session end that fails after the stream made the repository, a
stream that stopped midway, and hints found for another release. Real pytest sessions against
the emulator over loopback, and the target in process (``Tamper``)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from zephyr_target_helpers import (
    Tamper,
    ZLive,
    duplicates,
    executions,
    sample_run,
    settings_for,
    start_zephyr,
    zlive,
)

from tmupload.delivery.journal import FileJournal
from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import UploadOutcome, resend, upload
from tmupload.errors import ConfigError
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import Settings
from tmupload.targets.zephyr.api import ZephyrApi, zephyr_client
from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig
from tmupload.targets.zephyr.placement import resolve_placement
from tmupload.targets.zephyr.stream import Found, ZephyrStream
from tmupload.targets.zephyr.target import ZephyrTarget

__all__ = ["start_zephyr", "zlive"]  # fixtures used here

# -- real sessions -----------------------------------------------------------------------

QUICK = """
import pytest

def test_pass():
    pass

def test_fail():
    assert 1 == 2

def test_skip():
    pytest.skip("later")

class TestGroup:
    def test_in_class(self):
        pass

@pytest.mark.parametrize("value", ["a", "b"])
def test_param(value):
    pass
"""

# Collected last (so every test of test_quick.py is handed out before it): waits, at most
# TMTEST_ZE_WAIT seconds, until the server holds a test case for each of them.
LAST = """
import json, os, time, urllib.request

def test_last():
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + float(os.environ["TMTEST_ZE_WAIT"])
    while time.monotonic() < deadline:
        with opener.open(os.environ["TMTEST_ZE_URL"] + "/_emulator/state") as answer:
            state = json.load(answer)
        made = [t for t in state["test_cases"] if "/test_quick.py" in t["folder_path"]]
        if len(made) >= 6:
            return
        time.sleep(0.05)
"""

# The moment the tests are over and the upload has not begun: the controller's session end
# (tmupload's own hook runs last) records the server's request log and state.
CONFTEST = """
import json, os, pathlib, urllib.request

def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return  # an xdist worker
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = os.environ["TMTEST_ZE_URL"] + "/_emulator/"
    seen = {what: json.load(opener.open(url + what)) for what in ("requests", "state")}
    pathlib.Path(os.environ["TMTEST_AT_END"]).write_text(json.dumps(seen))
"""

QUICK_CASES = {
    ("Automation/test_quick.py", "test_pass"),
    ("Automation/test_quick.py", "test_fail"),
    ("Automation/test_quick.py", "test_skip"),
    ("Automation/test_quick.py/TestGroup", "TestGroup::test_in_class"),
    ("Automation/test_quick.py", "test_param[a]"),
    ("Automation/test_quick.py", "test_param[b]"),
}
LANDED = {
    "test_quick.py::test_pass": "Pass",
    "test_quick.py::test_fail": "Fail",
    "test_quick.py::test_skip": "Not Executed",
    "test_quick.py::TestGroup::test_in_class": "Pass",
    "test_quick.py::test_param[a]": "Pass",
    "test_quick.py::test_param[b]": "Pass",
    "test_zz_last.py::test_last": "Pass",
}
# The session's own part: the phase and everything in it.
_PHASE_WORK = re.compile(r"/cycle/\d+/phase$|/assign|/execution")


def _session(
    pytester: pytest.Pytester,
    live: ZLive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait: float,
    *extra: str,
) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Run the suite; (its result, the request log and state when the tests were over)."""
    pytester.makepyfile(test_quick=QUICK, test_zz_last=LAST, conftest=CONFTEST)
    at_end = tmp_path / "at_end.json"
    monkeypatch.setenv("TMTEST_ZE_URL", live.url)
    monkeypatch.setenv("TMTEST_ZE_WAIT", str(wait))
    monkeypatch.setenv("TMTEST_AT_END", str(at_end))
    args = live.args(tmp_path, "--rootdir", str(pytester.path), *extra)
    result = pytester.runpytest_subprocess(*args)
    return result, json.loads(at_end.read_text(encoding="utf-8"))


def _statuses(emulator: Emulator) -> dict[str, str]:
    return {name: e["status_name"] for name, e in executions(emulator).items()}


def _posts(calls: list[Any], suffix: str | tuple[str, ...]) -> list[Any]:
    return [call for call in calls if call[0] == "POST" and call[1].endswith(suffix)]


def test_under_xdist_the_repository_is_made_while_the_tests_run_and_each_result_lands_once(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, at_end = _session(pytester, zlive, tmp_path, monkeypatch, 8.0, "-n", "2")
    assert result.ret == 1  # test_fail fails on purpose
    result.stdout.fnmatch_lines(["*uploaded 7 results to Zephyr Enterprise*"])

    # When the tests were over, the folders and test cases of test_quick.py existed, made
    # by the stream (in bulk), and nothing of the session's own phase had been sent.
    made = at_end["state"]
    assert {f["path"] for f in made["folders"]} >= {
        "Automation",
        "Automation/test_quick.py",
        "Automation/test_quick.py/TestGroup",
    }
    assert {(t["folder_path"], t["name"]) for t in made["test_cases"]} >= QUICK_CASES
    before = [tuple(call) for call in at_end["requests"]]
    bulk = _posts(before, "/testcase/bulk")
    assert bulk and all(status == 200 for _, _, status in bulk)
    assert not [c for c in before if c[0] != "GET" and _PHASE_WORK.search(c[1])]
    assert made["cycles"] != [] and all(c["phases"] == [] for c in made["cycles"])

    # The session end found them: at most the last test's folder and test case are new.
    after = zlive.emulator.requests[len(before) :]
    assert len(_posts(after, "/testcasetree")) <= 1
    assert len(_posts(after, "/testcase/bulk")) <= 1
    assert not _posts(after, "/cycle")

    # Every result exactly once, with its status.
    (phase,) = zlive.phases()
    assert len(phase["executions"]) == len(LANDED)
    assert _statuses(zlive.emulator) == LANDED
    assert duplicates(zlive.emulator) == {}
    assert len(zlive.emulator.snapshot()["test_cases"]) == len(LANDED)


def test_a_serial_session_makes_the_repository_while_the_tests_run_too(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stream runs in the courier, where no test can mock httpx: a serial session's
    # repository is made while its tests run, as under xdist.
    result, at_end = _session(pytester, zlive, tmp_path, monkeypatch, 8.0)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*uploaded 7 results to Zephyr Enterprise*"])
    made = at_end["state"]
    assert {(t["folder_path"], t["name"]) for t in made["test_cases"]} >= QUICK_CASES
    before = [tuple(call) for call in at_end["requests"]]
    assert not [c for c in before if c[0] != "GET" and _PHASE_WORK.search(c[1])]
    assert _statuses(zlive.emulator) == LANDED
    assert duplicates(zlive.emulator) == {} and len(zlive.phases()) == 1


# -- in process -----------------------------------------------------------------------------

EXPECTED = {
    "tests::api::test_auth.py::TestLogin::test_ok[a::b]": "Pass",
    "tests::api::test_auth.py::test_bad": "Fail",
    "tests::api::test_auth.py::test_setup": "Fail",
    "tests::api::test_auth.py::test_skip": "Not Executed",
    "tests::api::test_auth.py::test_xfail": "Not Executed",
    "tests::api::test_auth.py::test_xpass": "Pass",
    "tests::api::test_auth.py::test_flaky": "Pass",
}
_REPOSITORY_WRITES = ("/testcasetree", "/testcase/bulk")
#: Reads of the repository: the folder tree and the test cases in a folder.
_LOOKUPS = re.compile(r"/(testcasetree|testcase/tree)(/|$)")


def _in_process(**config: Any) -> tuple[Emulator, Tamper]:
    emulator = Emulator(EmulatorConfig(**config))
    return emulator, Tamper(emulator)


def _streamed(
    settings: Settings, transport: httpx.BaseTransport, cases: list[CaseResult]
) -> tuple[ZephyrTarget, ZephyrStream, Found]:
    """A target whose stream, allowed to send (an xdist controller), saw ``cases`` and
    finished its work, as the session end finds it."""
    target = ZephyrTarget(settings, transport=transport)
    target.prepare()
    stream = target.stream(may_send=True)
    for case in cases:
        stream.add(case)
    stream.end()
    return target, stream, stream.finish()


def _upload(
    run: RunReport, settings: Settings, transport: httpx.BaseTransport, target: ZephyrTarget
) -> UploadOutcome:
    return upload(run, settings, transport=transport, target=target)


def test_a_stream_that_may_not_send_sends_nothing_and_the_upload_is_whole(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path)
    target = ZephyrTarget(settings, transport=transport)
    stream = target.stream(may_send=False)
    run = sample_run()
    for case in run.cases:
        stream.add(case)
    stream.end()
    assert stream.finish() == Found() and emulator.requests == []
    outcome = _upload(run, settings, transport, target)
    assert outcome.ok, outcome.error
    assert _statuses(emulator) == EXPECTED and duplicates(emulator) == {}


def test_a_stream_creates_nothing_before_the_status_map_passed_its_check(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path, status_map="skipped=Deferred")  # an inactive status
    run = sample_run()
    target, _, found = _streamed(settings, transport, run.cases)
    assert found.problem is not None and found.placement is None
    assert [call for call in emulator.requests if call[0] != "GET"] == []
    outcome = _upload(run, settings, transport, target)
    assert isinstance(outcome.error, ConfigError) and "inactive status 5" in str(outcome.error)
    assert [call for call in emulator.requests if call[0] != "GET"] == []


def test_a_second_streamed_run_creates_nothing_and_deliver_repeats_no_lookup(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path)
    run = sample_run("first")
    target, _, found = _streamed(settings, transport, run.cases)
    assert found.problem is None and len(emulator.snapshot()["test_cases"]) == 7
    assert _upload(run, settings, transport, target).ok
    shot = emulator.snapshot()

    start = len(emulator.requests)
    run = sample_run("second")
    target, _, found = _streamed(settings, transport, run.cases)
    assert found.problem is None
    mark = len(emulator.requests)
    outcome = _upload(run, settings, transport, target)
    assert outcome.ok, outcome.error
    after = emulator.snapshot()
    assert after["test_cases"] == shot["test_cases"] and after["folders"] == shot["folders"]
    assert [[p["name"] for p in c["phases"]] for c in after["cycles"]] == [["first", "second"]]
    assert _statuses(emulator) == EXPECTED and duplicates(emulator) == {}
    stream_calls, deliver_calls = emulator.requests[start:mark], emulator.requests[mark:]
    assert not _posts(emulator.requests[start:], _REPOSITORY_WRITES)
    assert not _posts(emulator.requests[start:], "/cycle")
    # The stream listed each folder once; deliver took folders and test cases from it.
    listed = [p for m, p, _ in stream_calls if m == "GET" and "/testcase/tree/" in p]
    assert len(listed) == len(set(listed)) == 2
    assert not [p for m, p, _ in deliver_calls if m == "GET" and _LOOKUPS.search(p)]


def _mover(classname: str, suite: str = "") -> CaseResult:
    """One case (one id) in a folder named by its suite, or else by its class."""
    return CaseResult(
        case_id="login works",
        suite=suite,
        classname=classname,
        name="login works",
        outcome=Outcome.FAILED,
    )


STEADY = CaseResult(
    case_id="pkg/test_steady.py::test_ok",
    suite="pkg/test_steady.py",
    name="test_ok",
    outcome=Outcome.PASSED,
)


@pytest.mark.parametrize(
    ("seen", "final", "where"),
    [
        ([_mover("ClassA"), _mover("ClassB")], _mover("ClassB"), "Automation/ClassB"),
        ([_mover("ClassA"), _mover("ClassB")], _mover("ClassA"), "Automation/ClassA"),
        ([_mover("", "pkg/a.py")], _mover("", "pkg/b.py"), "Automation/pkg/b.py"),
    ],
    ids=["later-wins", "final-is-the-first", "suite-changed"],
)
def test_a_case_whose_place_changed_after_the_stream_saw_it_lands_where_the_run_says(
    tmp_path: Path, seen: list[CaseResult], final: CaseResult, where: str
) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path)
    target, _, found = _streamed(settings, transport, [STEADY, *seen])
    assert found.problem is None
    run = replace(sample_run("moved"), cases=[STEADY, final])
    outcome = _upload(run, settings, transport, target)
    assert outcome.ok, outcome.error
    (phase,) = [p for c in emulator.snapshot()["cycles"] for p in c["phases"]]
    landed = {
        (e["folder_path"], e["test_case_name"], e["status_name"]) for e in phase["executions"]
    }
    assert landed == {
        ("Automation/pkg/test_steady.py", "test_ok", "Pass"),
        (where, final.name, "Fail"),
    }
    assert len(phase["executions"]) == 2 and duplicates(emulator) == {}


@pytest.mark.parametrize(
    "fault",
    [
        [("answer", "POST", r"/cycle/\d+/phase$", 503)],
        # the executions were made but their answer was lost, and the listing that would
        # find them fails: the resend must find them, not make them again
        [("lose", "POST", r"/execution/modify$", 1), ("answer", "GET", r"/execution$", 503)],
        [("answer", "PUT", r"/execution/bulk/execute$", 503)],
    ],
    ids=["phase", "executions", "statuses"],
)
def test_a_session_end_failing_after_the_stream_made_the_repository_resends_each_case_once(
    tmp_path: Path, fault: list[tuple[str, str, str, int]]
) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path)
    run = sample_run()
    target, _, found = _streamed(settings, transport, run.cases)
    assert found.problem is None and len(emulator.snapshot()["test_cases"]) == 7
    mark = len(emulator.requests)
    for how, method, pattern, value in fault:
        getattr(transport, how)(method, pattern, value)
    first = _upload(run, settings, transport, target)
    assert not first.ok and len(Outbox(tmp_path / "outbox").entries()) == 1
    transport.rules.clear()
    (again,) = resend(settings_for(tmp_path), transport=transport)
    assert again.ok, again.error
    assert Outbox(tmp_path / "outbox").entries() == []
    (phase,) = [p for c in emulator.snapshot()["cycles"] for p in c["phases"]]
    assert len(phase["executions"]) == len(run.cases)
    assert _statuses(emulator) == EXPECTED and duplicates(emulator) == {}
    assert not _posts(emulator.requests[mark:], _REPOSITORY_WRITES)


def test_a_stream_stopped_by_a_lost_creation_answer_leaves_no_stale_hint(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    # The test cases are made but the answer is lost, and the listing that would find them
    # fails too (both attempts of the stream's client): the stream stops not knowing.
    transport.lose("POST", r"/testcase/bulk$")
    transport.answer("GET", r"/testcase/tree/\d+$", 503, times=2)
    settings = settings_for(tmp_path)
    run = sample_run()
    target, _, found = _streamed(settings, transport, run.cases)
    assert found.problem is not None and "503" in found.problem
    assert len(emulator.snapshot()["test_cases"]) == 7
    outcome = _upload(run, settings, transport, target)
    assert outcome.ok, outcome.error
    assert duplicates(emulator) == {} and len(emulator.snapshot()["test_cases"]) == 7
    assert _statuses(emulator) == EXPECTED


def test_hints_found_for_another_release_are_not_used(tmp_path: Path) -> None:
    emulator, transport = _in_process(projects={"Demo": ["2026.4", "2026.5"]})
    old = settings_for(tmp_path)
    assert upload(sample_run("earlier"), old, transport=transport).ok  # cycle Nightly in 2026.4
    # prepare and the stream look in 2026.4 (they find its cycle, folders and test cases) ...
    run = sample_run("moved")
    target, _, found = _streamed(old, transport, run.cases)
    assert found.placement is not None and found.cycle is not None
    # ... while the entry delivered was placed in 2026.5 (an earlier attempt recorded it).
    new = settings_for(tmp_path, release="2026.5")
    with zephyr_client(new, transport=transport) as http:
        placement = resolve_placement(ZephyrApi(http), new, target.status_map)
    assert placement.release_id != found.placement.release_id
    (tmp_path / "entry").mkdir()
    journal = FileJournal(tmp_path / "entry")
    journal.finish("placement", placement.as_data())
    delivery = target.deliver(run, journal)
    assert delivery.totals == {"passed": 3, "failed": 2, "skipped": 2}

    shot = emulator.snapshot()
    cycles = {
        (c["release_id"], c["name"]): [p["name"] for p in c["phases"]] for c in shot["cycles"]
    }
    old_release = found.placement.release_id
    assert cycles == {
        (old_release, "Nightly"): ["earlier"],
        (placement.release_id, "Nightly"): ["moved"],
    }
    in_new = {t["id"] for t in shot["test_cases"] if _release_of(shot, t) == placement.release_id}
    (phase,) = next(c["phases"] for c in shot["cycles"] if c["release_id"] != old_release)
    assert {e["testcase_version_id"] for e in phase["executions"]} == in_new
    assert len(in_new) == 7 and _statuses(emulator) == EXPECTED


def _release_of(shot: dict[str, Any], test_case: dict[str, Any]) -> int:
    return int(next(f["release_id"] for f in shot["folders"] if f["id"] == test_case["folder_id"]))
