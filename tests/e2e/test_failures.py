"""What a user sees when the upload cannot happen: one clear message, a non-zero exit (per
--tm-on-error), the tests' own results unchanged, and the run kept in the outbox."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from live import Live, upload_args

SUITE = "def test_ok():\n    pass\n\ndef test_also_ok():\n    pass\n"


def _outbox_entries(tmp_path: Path) -> list[Path]:
    outbox = tmp_path / "outbox"
    return [p for p in outbox.iterdir() if not p.name.startswith(".")] if outbox.exists() else []


def test_wrong_password(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "wrong-canary-pw")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    assert result.ret == 1
    result.assert_outcomes(passed=2)  # the tests themselves passed
    result.stdout.fnmatch_lines(
        ["*upload FAILED: GET */api failed with HTTP 401*TMUPLOAD_USER and TMUPLOAD_PASSWORD*"]
    )
    assert "wrong-canary-pw" not in result.stdout.str() + result.stderr.str()
    assert len(_outbox_entries(tmp_path)) == 1
    result.stdout.fnmatch_lines(["*send them again with: tmupload resend --outbox *"])


def test_unknown_project(pytester: pytest.Pytester, live: Live, tmp_path: Path) -> None:
    pytester.makepyfile(test_a=SUITE)
    args = upload_args(live, tmp_path)
    args[args.index("Demo")] = "Nope"
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 1
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*there is no project named 'Nope'*never creates projects*"])
    assert live.api_calls("POST") == []  # nothing half-sent
    assert live.runs() == []


def test_unreachable_server_respects_the_deadline(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "u")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "p")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pytester.makepyfile(test_a=SUITE)
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "--tm-upload",
        "--tm-url",
        f"http://127.0.0.1:{port}/EnterpriseTester",
        "--tm-project",
        "Demo",
        "--tm-outbox",
        str(tmp_path / "outbox"),
        "--tm-deadline",
        "1",
    )
    assert time.monotonic() - started < 30
    assert result.ret == 1
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*upload FAILED:*127.0.0.1:*"])
    assert len(_outbox_entries(tmp_path)) == 1


def test_read_only_user(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "viewer")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "viewer")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    assert result.ret == 1
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*upload FAILED: POST */api/scriptpackages failed with HTTP 403*"])
    assert live.runs() == []


def test_on_error_warn_keeps_the_exit_status(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "wrong")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path, "--tm-on-error", "warn"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*upload FAILED*", "*--tm-on-error=warn*"])


def test_missing_settings_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess("--tm-upload")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tmupload: upload needs --tm-url*--tm-project*"])


def test_bad_option_value_names_all_spellings(pytester: pytest.Pytester, live: Live) -> None:
    pytester.makeini("[pytest]\ntm_timeout = soon\n")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(
        "--tm-upload", "--tm-url", live.url, "--tm-project", "Demo"
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ini key tm_timeout must be a number*TMUPLOAD_TIMEOUT*"])


def test_dry_run_writes_nothing_and_says_what_it_would_do(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path, "--tm-dry-run"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*tmupload: dry run against*",
            "*dry run: nothing was created or sent*",
            "*would create script package Automated Tests*",
            "*would create automated test 'pytest'*",
            "*would upload 2 results*",
        ]
    )
    assert {method for method, _, _ in live.api_calls()} == {"GET"}
    assert live.emulator.snapshot()["script_packages"] == []
    assert not (tmp_path / "outbox").exists()


def test_upload_off_does_nothing(pytester: pytest.Pytester, live: Live, tmp_path: Path) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess("--tm-url", live.url, "--tm-project", "Demo")
    assert result.ret == 0
    assert "tmupload:" not in result.stdout.str()
    assert live.api_calls() == []


def test_env_enables_upload_and_header_says_where(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_UPLOAD", "1")
    monkeypatch.setenv("TMUPLOAD_URL", live.url)
    monkeypatch.setenv("TMUPLOAD_PROJECT", "Demo")
    monkeypatch.setenv("TMUPLOAD_OUTBOX", str(tmp_path / "outbox"))
    pytester.makepyfile(test_a=SUITE)
    manifest = tmp_path / "m.json"
    result = pytester.runpytest_subprocess("--tm-manifest", str(manifest))
    result.stdout.fnmatch_lines([f"tmupload: uploading to {live.url} project 'Demo'*"])
    assert json.loads(manifest.read_text())["status"] == "uploaded"
    assert len(live.runs()) == 1


def test_unwritable_outbox_is_one_clear_message(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the outbox directory should be")
    pytester.makepyfile(test_a=SUITE)
    args = [*upload_args(live, tmp_path), f"--tm-outbox={blocker / 'outbox'}"]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 1
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*upload FAILED: cannot write the outbox*--tm-outbox*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert live.api_calls() == []
