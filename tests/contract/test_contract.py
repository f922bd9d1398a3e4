"""What every target promises, end to end: real pytest sessions (subprocess, serial and -n 2)
uploading to the target's emulator over a loopback socket."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from servers import Server, upload_args

from tmupload.cli.app import main

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

def test_skip():
    pytest.skip("no")

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="strict", strict=True)
def test_xpass_strict():
    pass

class TestA:
    def test_same(self):
        pass

class TestB:
    def test_same(self):
        assert False

@pytest.mark.parametrize("value", ["é", "[x]"])
def test_param(value):
    pass
"""

EXPECTED = {
    "test_suite.py::test_pass": "passed",
    "test_suite.py::test_fail": "failed",
    "test_suite.py::test_setup_error": "failed",
    "test_suite.py::test_teardown_error": "failed",
    "test_suite.py::test_skip": "skipped",
    "test_suite.py::test_xfail": "skipped",
    "test_suite.py::test_xpass_strict": "failed",
    "test_suite.py::TestA::test_same": "passed",
    "test_suite.py::TestB::test_same": "failed",
    "test_suite.py::test_param[\\xe9]": "passed",  # pytest escapes non-ASCII ids
    "test_suite.py::test_param[[x]]": "passed",
}

LINKED = """
import pytest

@pytest.mark.ticket("PAY-17")
def test_known_ticket():
    assert False

@pytest.mark.ticket("NOPE-404")
def test_unknown_ticket():
    assert False

@pytest.mark.ticket("PAY-18")
def test_passing_is_not_linked():
    pass
"""

FLAKY = """
import os, pathlib

def test_flaky(tmp_path_factory):
    marker = pathlib.Path(os.environ["FLAKY_MARKER"])
    if not marker.exists():
        marker.write_text("failed once")
        assert False, "first attempt fails"
"""


ATTACHING = """
import json

PNG = bytes.fromhex("89504e470d0a1a0a") + bytes(range(256)) * 4

def test_failing_screen(tm_attach):
    tm_attach(PNG, name="screen.png")
    assert False, "the page looked wrong"

def test_passing_with_a_temp_file(tm_attach, tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"ok": True}))
    tm_attach(data)
    data.unlink()  # the copy still goes
"""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _entries(outbox: Path) -> list[Path]:
    return [p for p in outbox.iterdir() if not p.name.startswith(".")] if outbox.exists() else []


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_every_outcome_lands_once_with_its_status_and_a_second_upload_beside_it(
    pytester: pytest.Pytester, server: Server, outbox: Path, workers: list[str]
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    manifest = pytester.path / "manifest.json"
    result = pytester.runpytest_subprocess(
        *upload_args(server, outbox, f"--tm-manifest={manifest}"), *workers
    )
    result.assert_outcomes(passed=5, failed=3, errors=2, skipped=1, xfailed=1)
    assert server.uploads() == 1  # one upload, also with two workers
    assert server.landed() == EXPECTED
    data = json.loads(manifest.read_text())
    assert data["status"] == "uploaded" and data["target"] == server.target
    assert all(case["result_id"] for case in data["cases"]) and len(data["cases"]) == 11
    result.stdout.fnmatch_lines([f"*tmupload: uploaded 11 results to {server.title}: *"])
    assert _entries(outbox) == []
    if not workers:  # a second upload lands beside the first (the workers play no part)
        pytester.runpytest_subprocess(*upload_args(server, outbox))
        assert server.uploads() == 2
        assert server.landed() == EXPECTED


def test_a_rerun_test_lands_once_with_its_final_outcome(
    pytester: pytest.Pytester, server: Server, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_MARKER", str(pytester.path / "flaky-marker"))
    pytester.makepyfile(test_flaky=FLAKY)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox, "--reruns", "2"))
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("rerun")) == (1, 1)
    assert server.landed() == {"test_flaky.py::test_flaky": "passed"}


def test_failures_are_linked_and_an_unknown_ticket_fails_nothing_else(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_linked=LINKED)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox))
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the tests' own failures, nothing more
    assert server.links() == {("test_linked.py::test_known_ticket", "PAY-17")}
    result.stdout.fnmatch_lines(
        [
            "*ticket links: 1 linked, 1 unknown ticket*",
            "*unknown ticket NOPE-404 for test_linked.py::test_unknown_ticket*",
        ]
    )
    assert _entries(outbox) == []


def test_a_dry_run_writes_nothing(pytester: pytest.Pytester, server: Server, outbox: Path) -> None:
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox, "--tm-dry-run"))
    result.stdout.fnmatch_lines(["*dry run: nothing was created or sent*"])
    assert server.writes() == []
    assert server.uploads() == 0 and not outbox.exists()


def test_a_lost_answer_never_lands_twice(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    server.drop_next_upload_answer()
    pytester.runpytest_subprocess(*upload_args(server, outbox))
    # Whether this session finished or left the run for a resend, it landed exactly once.
    assert main(["resend", "--outbox", str(outbox)]) == 0
    assert server.uploads() == 1
    assert server.landed() == EXPECTED


def test_wrong_credentials_keep_the_run_and_a_resend_delivers_it(
    pytester: pytest.Pytester, server: Server, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    for key, value in server.credentials("wrong").items():
        monkeypatch.setenv(key, value)
    failed = pytester.runpytest_subprocess(*upload_args(server, outbox))
    output = failed.stdout.str() + failed.stderr.str()
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    failed.stdout.fnmatch_lines(["*upload FAILED: *HTTP 401*", "*tmupload resend --outbox *"])
    assert all(
        secret not in output for secret in server.credentials("wrong").values() if len(secret) > 8
    )
    assert len(_entries(outbox)) == 1 and server.uploads() == 0
    for key, value in server.credentials("ok").items():
        monkeypatch.setenv(key, value)
    assert main(["resend", "--outbox", str(outbox)]) == 0
    assert server.uploads() == 1 and server.landed() == EXPECTED
    assert _entries(outbox) == []


def test_read_only_credentials_are_refused_and_nothing_lands(
    pytester: pytest.Pytester, server: Server, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    for key, value in server.credentials("readonly").items():
        monkeypatch.setenv(key, value)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox))
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*upload FAILED: *HTTP 403*"])
    assert server.uploads() == 0 and len(_entries(outbox)) == 1


def test_import_sends_a_junit_file_as_one_upload(
    pytester: pytest.Pytester, server: Server, tmp_path: Path
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    report = tmp_path / "junit.xml"
    pytester.runpytest_subprocess(f"--junitxml={report}", "-p", "no:cacheprovider")
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        code = main(["import", str(report), *server.cli_args(), "--outbox", str(tmp_path / "ob")])
    finally:
        os.chdir(before)
    assert code == 0
    assert server.uploads() == 1
    assert sorted(server.landed().values()) == sorted(EXPECTED.values())


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_attachments_land_byte_for_byte_once(
    pytester: pytest.Pytester, server: Server, outbox: Path, workers: list[str]
) -> None:
    pytester.makepyfile(test_attach=ATTACHING)
    server.drop_next_upload_answer()  # a lost answer on the way must not double anything
    pytester.runpytest_subprocess(*upload_args(server, outbox), *workers)
    assert main(["resend", "--outbox", str(outbox)]) == 0
    png = bytes.fromhex("89504e470d0a1a0a") + bytes(range(256)) * 4
    files = server.attachments()
    failing = dict(files["test_attach.py::test_failing_screen"])
    assert failing["screen.png"] == _sha(png)
    assert "output.txt" in failing  # --tm-attach output: the failure's full text, as a file
    assert len(files["test_attach.py::test_failing_screen"]) == 2  # each exactly once
    assert files["test_attach.py::test_passing_with_a_temp_file"] == [
        ("data.json", _sha(json.dumps({"ok": True}).encode()))
    ]


def test_an_attachment_over_the_limit_is_left_out_and_said(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_attach=ATTACHING)
    result = pytester.runpytest_subprocess(
        *upload_args(server, outbox, "--tm-max-attachment=500", "--tm-attach=none")
    )
    result.stdout.fnmatch_lines(
        ["*test_attach.py::test_failing_screen: attachment screen.png (1,032 bytes) is over "
         "--tm-max-attachment (500); left out*"]
    )  # fmt: skip
    assert "test_attach.py::test_failing_screen" not in server.attachments()
    assert len(server.attachments()["test_attach.py::test_passing_with_a_temp_file"]) == 1
