"""Real pytest sessions (subprocess) uploading to the emulator over a loopback socket."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live import Live, leaves, upload_args

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
    pass

def test_fail():
    assert 1 == 2

def test_setup_error(broken):
    pass

def test_teardown_error(bad_teardown):
    pass

def test_fail_and_teardown_error(bad_teardown):
    assert False

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

class TestB:
    def test_same(self):
        assert False

@pytest.mark.parametrize("value", ["é", "中文", "[x]", "y" * 500])
def test_param(value):
    pass
"""

EXPECTED_STATUS = {
    "test_pass": "Passed",
    "test_fail": "Failed",
    "test_setup_error": "Error",
    "test_teardown_error": "Error",
    "test_fail_and_teardown_error": "Failed",
    "test_skip": "Skipped",
    "test_xfail": "Skipped",
    "test_xpass": "Passed",
    "test_xpass_strict": "Failed",
    "TestA::test_same": "Passed",
    "TestB::test_same": "Failed",
}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_every_outcome_lands_with_the_right_status(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, workers: list[str]
) -> None:
    pytester.makepyfile(test_outcomes=SUITE)
    manifest = tmp_path / "manifest.json"
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-manifest", str(manifest)), *workers
    )
    # The tests' own outcomes are reported as usual.
    result.assert_outcomes(passed=7, failed=4, errors=3, skipped=1, xfailed=1, xpassed=1)
    run = live.only_run()  # exactly one run, also with two workers
    nodes = leaves(run)
    assert len(nodes) == 15
    for name, status in EXPECTED_STATUS.items():
        assert nodes[("test_outcomes.py", name)]["Status"] == status, name
    params = [node for (_, name), node in nodes.items() if name.startswith("test_param[")]
    assert len(params) == 4 and {node["Status"] for node in params} == {"Passed"}
    assert run["Totals"]["Failed"] == 4 and run["Totals"]["Errors"] == 2
    # The manifest maps every node id to the node the server created.
    data = json.loads(manifest.read_text())
    assert data["status"] == "uploaded"
    node_ids = {node["Id"] for node in nodes.values()}
    assert {case["result_id"] for case in data["cases"]} == node_ids
    assert len(data["cases"]) == 15
    result.stdout.fnmatch_lines(
        [
            "*tmupload: uploaded 15 results to Enterprise Tester: http://127.0.0.1:*",
            "*tmupload: in the web UI: project 'Demo' › execution package 'Automated Runs' › "
            "automated test 'pytest', the run started *",
            "*server totals: 7 passed, 4 failed, 2 errors, 2 skipped (run status Failed)*",
        ]
    )


def test_reruns_land_once_with_the_final_status(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_flaky="""
        import os, pathlib
        def test_flaky(tmp_path_factory):
            marker = pathlib.Path(os.environ["FLAKY_MARKER"])
            count = int(marker.read_text()) if marker.exists() else 0
            marker.write_text(str(count + 1))
            assert count >= 2
        def test_broken():
            assert False
        """
    )
    os_env = {"FLAKY_MARKER": str(tmp_path / "count")}
    manifest = tmp_path / "m.json"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in os_env.items():
            mp.setenv(key, value)
        result = pytester.runpytest_subprocess(
            *upload_args(live, tmp_path, "--tm-manifest", str(manifest)),
            "-p",
            "rerunfailures",
            "--reruns",
            "2",
        )
    result.assert_outcomes(passed=1, failed=1)
    assert result.parseoutcomes()["rerun"] == 4
    nodes = leaves(live.only_run())
    assert nodes[("test_flaky.py", "test_flaky")]["Status"] == "Passed"
    assert nodes[("test_flaky.py", "test_broken")]["Status"] == "Failed"
    cases = {case["case_id"]: case for case in json.loads(manifest.read_text())["cases"]}
    assert cases["test_flaky.py::test_flaky"]["attempts"] == 3


def test_nested_directories_and_same_file_names(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(
        **{
            "a/deep/test_same.py": "def test_x():\n    pass\n",
            "b/test_same.py": "def test_x():\n    assert False\n",
            "a/deep/__init__.py": "",
            "a/__init__.py": "",
            "b/__init__.py": "",
        }
    )
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    result.assert_outcomes(passed=1, failed=1)
    nodes = leaves(live.only_run())
    assert nodes[("a/deep/test_same.py", "test_x")]["Status"] == "Passed"
    assert nodes[("b/test_same.py", "test_x")]["Status"] == "Failed"


def test_placement_paths_are_created_once(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(test_one="def test_a():\n    pass\n")
    args = upload_args(
        live,
        tmp_path,
        "--tm-script-package",
        "Team/Payments/pytest",
        "--tm-execution-package",
        "Releases/2026.11/Nightly",
        "--tm-automated-test",
        "payments suite",
    )
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=1)
    snapshot = live.emulator.snapshot()
    script_paths = sorted(package["Path"] for package in snapshot["script_packages"])
    execution_paths = sorted(package["Path"] for package in snapshot["execution_packages"])
    assert len(script_paths) == 3 and len(execution_paths) == 3
    assert [test["Name"] for test in snapshot["automated_tests"]] == ["payments suite"]
    assert len(snapshot["runs"]) == 2
