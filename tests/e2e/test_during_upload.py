"""What a person sees while the upload runs and when it cannot finish: progress, retries
with their reason, limits named, an interrupted session said so, a login problem traced to
where the credentials came from."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import Live, upload_args
from tmupload.cli.app import main

SUITE = "def test_ok():\n    pass\n"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["default", "quiet"])
def test_a_server_that_never_answers_shows_each_retry_and_the_limits(
    pytester: pytest.Pytester,
    silent_server: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    quiet: list[str],
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "u")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "p")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(
        "--tm-upload", f"--tm-url=http://127.0.0.1:{silent_server}/ET", "--tm-project=Demo",
        f"--tm-outbox={tmp_path / 'outbox'}", "--tm-timeout=0.3", "--tm-deadline=20",
        "-p", "no:cacheprovider", *quiet,
    )  # fmt: skip
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "tmupload: GET /ET/api: no answer in time; retrying (attempt 2 of 5) [[]*s]",
            "tmupload: GET /ET/api: no answer in time; retrying (attempt 5 of 5) [[]*s]",
            "*upload FAILED: GET /ET/api: *did not answer in time (gave up after 5 attempts; the "
            "limits are --tm-timeout 0.3s per answer and --tm-deadline 20s for the whole upload)*",
        ]
    )
    if quiet:  # under -q only trouble is shown, not each phase
        assert "resolving project and packages" not in result.stdout.str()
    else:
        result.stdout.fnmatch_lines(["*tmupload: resolving project and packages [[]*s]"])
    result.stdout.fnmatch_lines(["*the results are kept in *"])


def test_the_summary_says_how_long_the_upload_took(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    result.stdout.fnmatch_lines(["*tmupload: uploaded 1 result to *(upload took *s)"])


def test_an_interrupted_session_is_uploaded_and_says_so(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_a="""
def test_first():
    pass

def test_interrupts():
    raise KeyboardInterrupt

def test_never_ran():
    pass
"""
    )
    manifest = tmp_path / "m.json"
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-run-name=nightly", f"--tm-manifest={manifest}")
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["*tmupload: the session was interrupted: the 2 results reported before it are "
         "uploaded as 'nightly (interrupted)' (a test cut short counts as an error)*"]
    )  # fmt: skip
    assert json.loads(manifest.read_text())["run"]["name"] == "nightly (interrupted)"
    assert len(live.runs()) == 1


def test_a_refused_login_names_the_password_file_that_was_used(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "pw.txt"
    secret.write_text("file-canary-pw\n")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "admin")  # right, but the file wins
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, f"--tm-password-file={secret}")
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [f"*HTTP 401*check TMUPLOAD_USER and the password in {secret} (--tm-password-file, "
         "which wins over TMUPLOAD_PASSWORD)*"]
    )  # fmt: skip
    assert "file-canary-pw" not in result.stdout.str() + result.stderr.str()


def test_the_emulator_on_a_busy_port_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["emulator", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err
    assert "Traceback" not in err


def test_subcommands_describe_themselves_and_offer_only_what_they_use() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "tmupload", "resend", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "Send again every run waiting in the outbox" in shown
    assert "--run-name" not in shown and "--dry-run" not in shown and "--outbox" in shown
