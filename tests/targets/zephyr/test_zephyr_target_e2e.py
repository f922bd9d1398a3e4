"""Real pytest sessions (subprocess) and the ``tmupload`` command against the Zephyr emulator
served over a loopback socket."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from zephyr_target_helpers import TOKEN, ZLive, duplicates, start_zephyr, zlive

from tmupload.delivery.outbox import Outbox

__all__ = ["start_zephyr", "zlive"]  # fixtures used here

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
    pytest.skip("no network")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="maybe")
def test_xpass():
    pass

class TestA:
    @pytest.mark.ticket("PAY-18")
    def test_same(self):
        assert False

@pytest.mark.parametrize("value", ["a::b", "<x>"])
def test_param(value):
    pass
"""

EXPECTED = {
    "test_pass": "Pass",
    "test_fail": "Fail",
    "test_setup_error": "Fail",
    "test_teardown_error": "Fail",
    "test_skip": "Not Executed",
    "test_xfail": "Not Executed",
    "test_xpass": "Pass",
    "TestA/TestA::test_same": "Fail",
    "test_param[a::b]": "Pass",
    "test_param[<x>]": "Pass",
}

FLAKY = """
import os, pathlib

def test_flaky():
    marker = pathlib.Path(os.environ["FLAKY_MARKER"])
    if not marker.exists():
        marker.write_text("failed once")
        assert False, "first attempt fails"
"""


def _landed(live: ZLive, phase: int = -1) -> dict[str, str]:
    """name below the file's folder -> status name, for one phase."""
    found = {}
    for execution in live.phases()[phase]["executions"]:
        folder = execution["folder_path"].split("test_e2e.py")[-1].strip("/")
        name = "/".join(part for part in (folder, execution["test_case_name"]) if part)
        found[name] = execution["status_name"]
    return found


def _defects(live: ZLive, phase: int = -1) -> dict[str, list[str]]:
    return {
        e["test_case_name"]: e["defects"]
        for e in live.phases()[phase]["executions"]
        if e["defects"]
    }


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
    environ.update(env if env is not None else {"TMUPLOAD_TOKEN": TOKEN})
    return subprocess.run(
        [sys.executable, "-m", "tmupload", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_two_sessions_serial_then_xdist_add_one_phase_each_with_the_right_statuses(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    manifest = tmp_path / "manifest.json"
    rootdir = ["--rootdir", str(pytester.path)]
    args = zlive.args(tmp_path, "--tm-manifest", str(manifest), *rootdir)
    first = pytester.runpytest_subprocess(*args)
    assert first.ret == 1  # the suite fails on purpose; the upload succeeded
    first.stdout.fnmatch_lines(
        [
            "*tmupload: uploading to * (Zephyr Enterprise, release '2026.4', cycle 'Nightly')*",
            "*uploaded 10 results to Zephyr Enterprise: http://127.0.0.1:*cyclephaseid=*",
            "*in the web UI: Test Execution › release 2026.4 › cycle Nightly › phase pytest *",
            "*server totals: 4 passed, 4 failed, 2 skipped*",
            "*ticket links: 2 linked, 1 unknown ticket*",
            "*unknown ticket NOPE-9 for test_e2e.py::test_fail*",
        ]
    )
    assert _landed(zlive) == EXPECTED
    assert _defects(zlive) == {"test_fail": ["PAY-17"], "TestA::test_same": ["PAY-18"]}
    notes = {e["test_case_name"]: e["notes"] for e in zlive.phases()[-1]["executions"]}
    assert "assert 1 == 2" in notes["test_fail"] and notes["test_skip"].endswith("no network")
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["status"] == "uploaded" and data["target"] == "zephyr"
    assert data["run"]["totals"] == {"passed": 4, "failed": 4, "skipped": 2}
    shot = zlive.emulator.snapshot()

    second = pytester.runpytest_subprocess(*args, "-n", "2")  # the workers' results, once
    assert second.ret == 1
    after = zlive.emulator.snapshot()
    assert after["test_cases"] == shot["test_cases"] and after["folders"] == shot["folders"]
    assert [len(cycle["phases"]) for cycle in after["cycles"]] == [2]
    assert _landed(zlive, 0) == _landed(zlive, 1) == EXPECTED
    assert _defects(zlive, 1) == {"test_fail": ["PAY-17"], "TestA::test_same": ["PAY-18"]}
    assert duplicates(zlive.emulator) == {}


def test_a_rerun_test_lands_once_with_its_final_outcome(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_MARKER", str(tmp_path / "flaky-marker"))
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest_subprocess(*zlive.args(tmp_path, "--reruns", "2", "-n", "2"))
    assert result.parseoutcomes().get("rerun") == 1
    (execution,) = zlive.phases()[-1]["executions"]
    assert execution["status_name"] == "Pass"
    assert execution["notes"].startswith("passed after 2 attempts")


def test_basic_login_a_wrong_token_and_a_resend(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_TOKEN", "wrong-canary-token")
    pytester.makepyfile(test_e2e=SUITE)
    result = pytester.runpytest_subprocess(*zlive.args(tmp_path, "-k", "pass or fail"))
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*upload FAILED*HTTP 401*check TMUPLOAD_TOKEN*", "*tmupload resend --outbox*"]
    )
    assert "wrong-canary-token" not in result.stdout.str() + result.stderr.str()
    assert zlive.writes() == [] and len(Outbox(tmp_path / "outbox").entries()) == 1
    outbox = str(tmp_path / "outbox")
    basic = {"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": "admin"}
    done = _cli("resend", "--target", "zephyr", "--outbox", outbox, cwd=tmp_path, env=basic)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resent 1 of 1 run(s)" in done.stdout
    assert set(_landed(zlive)) == {"test_pass", "test_fail", "test_xfail", "test_xpass"}
    again = _cli("resend", "--target", "zephyr", "--outbox", outbox, cwd=tmp_path, env=basic)
    assert again.returncode == 0 and "nothing to resend" in again.stdout
    assert _defects(zlive) == {"test_fail": ["PAY-17"]}


def test_a_read_only_account_gets_403_and_nothing_lands(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TMUPLOAD_TOKEN")
    monkeypatch.setenv("TMUPLOAD_USER", "viewer")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "viewer")
    pytester.makepyfile(test_e2e=SUITE)
    result = pytester.runpytest_subprocess(*zlive.args(tmp_path))
    result.stdout.fnmatch_lines(["*upload FAILED*HTTP 403*read-only account or token*"])
    assert zlive.emulator.snapshot()["folders"] == [] and zlive.phases() == []


def test_a_lost_answer_over_the_socket_lands_once(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    zlive.emulator.configure_faults(fail_next=["drop_after_apply"] * 3, only_methods={"POST"})
    pytester.runpytest_subprocess(*zlive.args(tmp_path))
    if Outbox(tmp_path / "outbox").entries():
        done = _cli("resend", "--outbox", str(tmp_path / "outbox"), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    assert duplicates(zlive.emulator) == {} and len(zlive.phases()) == 1
    assert _landed(zlive) == EXPECTED


def test_import_a_junit_file_and_the_dry_run(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    report = tmp_path / "junit.xml"
    pytester.runpytest_subprocess(f"--junitxml={report}", "-p", "no:cacheprovider")
    where = ["--target", "zephyr", "--url", zlive.url, "--project", "Demo", "--release", "2026.4"]
    outbox = ["--outbox", str(tmp_path / "ob")]
    dry = _cli("import", str(report), *where, *outbox, "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would create 10 test case(s)" in dry.stdout and zlive.writes() == []
    done = _cli("import", str(report), *where, *outbox, "--cycle", "Imports", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (cycle,) = zlive.emulator.snapshot()["cycles"]
    assert cycle["name"] == "Imports" and len(cycle["phases"][0]["executions"]) == 10


def test_a_status_the_server_lacks_stops_the_upload_before_any_write(
    pytester: pytest.Pytester, zlive: ZLive, tmp_path: Path
) -> None:
    pytester.makepyfile(test_e2e=SUITE)
    result = pytester.runpytest_subprocess(
        *zlive.args(tmp_path, "--tm-status-map", "skipped=Deferred")
    )
    result.stdout.fnmatch_lines(["*upload FAILED*--tm-status-map*inactive status 5 Deferred*"])
    assert zlive.writes() == []


def test_a_bad_status_map_stops_pytest_before_the_tests_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_TOKEN", "t")
    pytester.makepyfile(test_a="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--tm-upload", "--tm-target=zephyr", "--tm-url=http://127.0.0.1:9", "--tm-project=P",
        "--tm-release=1", "--tm-status-map=pased=Pass", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--tm-status-map*unknown outcome 'pased'*"])
    assert "test_ok" not in result.stdout.str()
