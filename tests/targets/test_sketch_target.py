"""A new server is a folder plus a registry entry (``tests/sketch_target/``): the plugin,
``tmupload import``, ``resend`` and the manifest work with it and nothing else changes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tmupload.cli.app import main
from tmupload.targets import registry

SUITE = """
import pytest

def test_ok():
    pass

@pytest.mark.ticket("SK-1")
def test_broken():
    assert False
"""


@pytest.fixture
def sketch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    registry.register("sketch", "sketch_target.spec")
    monkeypatch.setenv("TMUPLOAD_TOKEN", "sketch-token")
    for name in ("TMUPLOAD_USER", "TMUPLOAD_PASSWORD", "TMUPLOAD_UPLOAD", "TMUPLOAD_URL"):
        monkeypatch.delenv(name, raising=False)
    yield tmp_path / "calls.jsonl"
    registry.unregister("sketch")


def _calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_the_plugin_uploads_through_a_new_target(
    pytester: pytest.Pytester, sketch: Path, tmp_path: Path
) -> None:
    pytester.makepyfile(test_s=SUITE)
    manifest = tmp_path / "m.json"
    result = pytester.runpytest(
        "--tm-upload",
        "--tm-target=sketch",
        "--tm-url=http://127.0.0.1:9",
        "--tm-project=P",
        f"--tm-sketch-log={sketch}",
        f"--tm-manifest={manifest}",
        f"--tm-outbox={tmp_path / 'outbox'}",
    )
    result.stdout.fnmatch_lines(["*uploading to http://127.0.0.1:9 project 'P' (sketch)*"])
    result.stdout.fnmatch_lines(["*uploaded 2 results to Sketch Server: */runs/run-2*"])
    calls = [call for call in _calls(sketch) if not call["call"].startswith("stream")]
    assert [call["call"] for call in calls] == ["send", "link"]
    assert calls[0]["cases"] == ["test_s.py::test_ok", "test_s.py::test_broken"]
    assert calls[1] == {"call": "link", "case": "test_s.py::test_broken", "key": "SK-1"}
    data = json.loads(manifest.read_text())
    assert data["target"] == "sketch" and data["placement"] == {"sketch_log": str(sketch)}
    assert data["links"][0]["status"] == "linked"


FLAKY_SUITE = """
import pytest

ATTEMPTS = {}

def test_ok():
    pass

def test_flaky():
    ATTEMPTS["flaky"] = ATTEMPTS.get("flaky", 0) + 1
    assert ATTEMPTS["flaky"] > 2

def test_broken():
    assert False

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown broke")

def test_teardown(bad_teardown):
    pass

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_the_target_gets_each_result_once_as_its_test_ends(
    pytester: pytest.Pytester,
    sketch: Path,
    tmp_path: Path,
    workers: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What a target receives while the tests run is each test's final result, once, with
    reruns folded (pytest-rerunfailures reports after every attempt), before the upload."""
    tests_dir = Path(__file__).resolve().parents[1]
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")])
    )
    pytester.makepyfile(test_s=FLAKY_SUITE)
    result = pytester.runpytest_subprocess(
        *workers,
        "--reruns=2",
        "-p",
        "sketch_target.plugin",
        "--tm-upload",
        "--tm-target=sketch",
        "--tm-url=http://127.0.0.1:9",
        "--tm-project=P",
        f"--tm-sketch-log={sketch}",
        f"--tm-outbox={tmp_path / 'outbox'}",
    )
    result.stdout.fnmatch_lines(["*uploaded 5 results to Sketch Server*"])
    calls = _calls(sketch)
    names = [call["call"] for call in calls]
    assert names[-3:] == ["stream_end", "send", "link"] or names[-2:] == ["stream_end", "send"]
    # The target lives in the courier, where no test runs (and mocks httpx): it may send
    # while the tests run, in serial sessions as under xdist.
    assert calls[0] == {"call": "stream_open", "may_send": True}
    streamed = {call["case"]: call["outcome"] for call in calls if call["call"] == "streamed"}
    assert len(streamed) == names.count("streamed") == 5
    assert streamed == {
        "test_s.py::test_ok": "passed",
        "test_s.py::test_flaky": "passed",
        "test_s.py::test_broken": "failed",
        "test_s.py::test_teardown": "error",
        "test_s.py::test_skipped": "skipped",
    }


def test_an_option_of_another_target_is_refused_naming_the_targets_own(
    pytester: pytest.Pytester, sketch: Path
) -> None:
    pytester.makepyfile(test_s=SUITE)
    result = pytester.runpytest(
        "--tm-upload", "--tm-target=sketch", "--tm-url=http://127.0.0.1:9", "--tm-project=P",
        "--tm-cycle=Nightly", f"--tm-sketch-log={sketch}",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--tm-cycle is not used by Sketch Server*its own settings are --tm-sketch-log*"]
    )


def test_import_and_resend_go_through_the_new_target(
    pytester: pytest.Pytester, sketch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_s=SUITE)
    report = tmp_path / "junit.xml"
    pytester.runpytest(f"--junitxml={report}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SKETCH_FAIL", "1")
    args = ["--target", "sketch", "--url", "http://127.0.0.1:9", "--project", "P"]
    outbox = ["--outbox", str(tmp_path / "ob")]
    assert main(["import", str(report), *args, "--sketch-log", str(sketch), *outbox]) == 1
    assert not sketch.exists()  # nothing was sent; the run waits in the outbox
    monkeypatch.delenv("SKETCH_FAIL")
    # The resend rebuilds the target named in the entry, with the settings frozen in it.
    assert main(["resend", *outbox]) == 0
    (send, link) = _calls(sketch)
    assert send["call"] == "send" and len(send["cases"]) == 2 and link["key"] == "SK-1"
    assert main(["resend", *outbox]) == 0  # nothing left, nothing sent twice
    assert len(_calls(sketch)) == 2
