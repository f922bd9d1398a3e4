"""Real pytest sessions (subprocess) and the ``tmupload`` command against the qTest emulator
served over a loopback socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qtest_target_helpers import TOKEN, QLive, qlive, start_qtest

from tmupload.delivery.outbox import Outbox

__all__ = ["qlive", "start_qtest"]  # fixtures used here

SUITE = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup exploded")

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown exploded")

def test_pass():
    print("some output")

@pytest.mark.ticket("PAY-17", "NOPE-9")
def test_fail():
    assert 1 == 2

def test_setup_error(broken):
    pass

def test_teardown_error(bad_teardown):
    pass

def test_skip():
    pytest.skip("no")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="maybe")
def test_xpass():
    pass

@pytest.mark.xfail(reason="strict", strict=True)
def test_xpass_strict():
    pass

class TestA:
    def test_same(self):
        pass

@pytest.mark.parametrize("value", ["a::b", "<x>"])
def test_param(value):
    pass
"""

EXPECTED = {
    "test_pass": "PASS",
    "test_fail": "FAIL",
    "test_setup_error": "FAIL",
    "test_teardown_error": "FAIL",
    "test_skip": "SKIP",
    "test_xfail": "SKIP",
    "test_xpass": "PASS",
    "test_xpass_strict": "FAIL",
    "TestA::test_same": "PASS",
    "test_param[a::b]": "PASS",
    "test_param[<x>]": "PASS",
}


def _landed(live: QLive) -> dict[str, list[str]]:
    """test name (node id after the file) -> automation statuses of its logs, oldest first."""
    return {
        content.split("::", 1)[1]: [log["automation_status"] for log in run["logs"]]
        for content, run in live.by_content().items()
    }


def _cli(*args: str, cwd: Path, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
    env["TMUPLOAD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "tmupload", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_two_sessions_serial_then_xdist_add_one_log_per_run_with_the_right_status(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    manifest = tmp_path / "manifest.json"
    # --rootdir: pytest would otherwise root node ids at the common folder of the path
    # arguments, and the manifest exists only from the second session on.
    rootdir = ["--rootdir", str(pytester.path)]
    args = qlive.args(tmp_path, "--tm-manifest", str(manifest), *rootdir)
    first = pytester.runpytest_subprocess(*args)
    assert first.ret == 1  # the suite fails on purpose; the upload succeeded
    first.stdout.fnmatch_lines(
        [
            "*tmupload: uploading to * (qTest Manager, test cycle 'CI/main')*",
            "*uploaded 11 results to qTest Manager: http://127.0.0.1:*tab=testexecution*",
            "*server totals: 5 passed, 4 failed, 2 not run*",
            "*ticket links: 1 linked, 1 unknown ticket*",
            "*unknown ticket NOPE-9 for test_e2e.py::test_fail*",
        ]
    )
    assert {name: logs[-1] for name, logs in _landed(qlive).items()} == EXPECTED
    runs = qlive.by_content()
    assert runs["test_e2e.py::test_fail"]["logs"][0]["defects"] == ["PAY-17"]
    assert "assert 1 == 2" in runs["test_e2e.py::test_fail"]["logs"][0]["note"]
    # --tm-attach output (the default): the failing result carries its full output and
    # traceback as a file; a passing one carries none.
    assert runs["test_e2e.py::test_fail"]["logs"][0]["attachments"][0]["name"] == "output.txt"
    assert runs["test_e2e.py::test_pass"]["logs"][0]["attachments"] == []
    assert runs["test_e2e.py::TestA::test_same"]["cycle_path"] == "CI/main/test_e2e.py/TestA"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["status"] == "uploaded" and data["target"] == "qtest"
    assert data["run"]["totals"] == {"passed": 5, "failed": 4, "not_run": 2}
    cases = qlive.emulator.snapshot()["test_cases"]

    second = pytester.runpytest_subprocess(*args, "-n", "2")  # the workers' results, once
    assert second.ret == 1
    assert all(len(logs) == 2 for logs in _landed(qlive).values())
    assert {name: logs[-1] for name, logs in _landed(qlive).items()} == EXPECTED
    assert len(qlive.runs()) == 11
    assert qlive.emulator.snapshot()["test_cases"] == cases  # no new test cases
    runs = qlive.by_content()
    assert [log["defects"] for log in runs["test_e2e.py::test_fail"]["logs"]] == [
        ["PAY-17"],
        ["PAY-17"],
    ]


def test_a_wrong_token_keeps_the_run_and_resend_finishes_it(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_TOKEN", "wrong-canary-token")
    pytester.makepyfile(test_e2e=SUITE)
    result = pytester.runpytest_subprocess(*qlive.args(tmp_path, "-k", "pass or fail"))
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*upload FAILED*HTTP 401*check TMUPLOAD_TOKEN*", "*tmupload resend --outbox*"]
    )
    assert "wrong-canary-token" not in result.stdout.str() + result.stderr.str()
    assert len(Outbox(tmp_path / "outbox").entries()) == 1
    assert qlive.writes() == []
    for path in (tmp_path / "outbox").rglob("*"):
        if path.is_file():
            assert b"wrong-canary-token" not in path.read_bytes()

    done = _cli("resend", "--target", "qtest", "--outbox", str(tmp_path / "outbox"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resent 1 of 1 run(s)" in done.stdout
    assert set(_landed(qlive)) == {
        "test_pass",
        "test_fail",
        "test_xfail",
        "test_xpass_strict",
        "test_xpass",
    }
    assert Outbox(tmp_path / "outbox").entries() == []
    # A second resend has nothing to do; the links were not made twice.
    again = _cli("resend", "--target", "qtest", "--outbox", str(tmp_path / "outbox"), cwd=tmp_path)
    assert again.returncode == 0 and "nothing to resend" in again.stdout
    assert qlive.by_content()["test_e2e.py::test_fail"]["logs"][0]["defects"] == ["PAY-17"]


def test_import_a_junit_file_into_qtest(qlive: QLive, tmp_path: Path) -> None:
    report = Path(__file__).resolve().parents[2] / "data" / "junit" / "pytest" / "xunit2.xml"
    done = _cli(
        "import",
        str(report),
        "--target",
        "qtest",
        "--url",
        qlive.url,
        "--project",
        "Demo",
        "--cycle",
        "Imports/nightly",
        "--outbox",
        str(tmp_path / "outbox"),
        cwd=tmp_path,
    )
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "uploaded" in done.stdout and "qTest Manager" in done.stdout
    runs = qlive.runs()
    assert runs and all(run["cycle_path"].startswith("Imports/nightly/") for run in runs)
    assert all(len(run["logs"]) == 1 for run in runs)


def test_the_dry_run_sends_no_write(
    pytester: pytest.Pytester, qlive: QLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    result = pytester.runpytest_subprocess(*qlive.args(tmp_path, "--tm-dry-run"))
    result.stdout.fnmatch_lines(
        [
            "*dry run: nothing was created or sent*",
            "*would create test cycle CI*",
            "*would submit 11 test logs in 1 chunk(s)*",
        ]
    )
    assert qlive.writes() == []
    assert qlive.emulator.requests  # it did read


def test_check_reports_each_step(qlive: QLive, tmp_path: Path) -> None:
    done = _cli("check", "--target", "qtest", "--url", qlive.url, "--project", "Demo", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok   project 'Demo' found" in done.stdout
    assert "the first upload will create test cycle Automation" in done.stdout
    assert "Passed" in done.stdout  # the project's execution statuses
    assert qlive.writes() == []
