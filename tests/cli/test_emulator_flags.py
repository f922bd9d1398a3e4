"""``tmupload emulator --faults SPEC --strict``: the flags reach the emulator it serves."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tmupload.cli.app import main
from tmupload.emulation import Faults, parse_faults_spec


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a non-interactive shell inherits SIGINT ignored,
    # and so would the command: give it the disposition a terminal's foreground job has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def _emulator(tmp_path: Path, *flags: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``tmupload emulator --port 0 *flags``; yield (root URL, the lines it printed)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tmupload", "emulator", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline()]
        while lines[-1] and "Ctrl-C" not in lines[-1]:
            lines.append(process.stdout.readline())
        assert " emulator at http://127.0.0.1:" in lines[0], lines
        url = lines[0].split(" at ", 1)[1].strip()
        yield url, lines
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert code == 0


def test_faults_flag_makes_the_emulator_answer_503(tmp_path: Path) -> None:
    with _emulator(tmp_path, "--faults", "503:1") as (url, lines):
        answer = httpx.get(f"{url}/api/projects", auth=("admin", "admin"), timeout=5)
        assert answer.status_code == 503
        assert any("faults: 503:1" in line for line in lines)


@pytest.mark.parametrize(
    ("target", "api"),
    [("qtest", "/api/v3/projects"), ("zephyr", "/flex/services/rest/latest/project")],
)
def test_strict_flag_starts_strict_with_faults(tmp_path: Path, target: str, api: str) -> None:
    with _emulator(tmp_path, "--target", target, "--strict", "--faults", "503:1") as (url, lines):
        assert any("strict mode: on" in line for line in lines), lines
        root = url.split("/flex/", 1)[0]
        assert httpx.get(f"{root}/_emulator/strict", timeout=5).json() == {"strict": True}
        faults = httpx.get(f"{root}/_emulator/faults", timeout=5).json()
        assert faults["status_503"] == 1.0
        token = {"Authorization": "Bearer demo-token"}
        assert httpx.get(f"{root}{api}", headers=token, timeout=5).status_code == 503


def test_without_strict_the_emulator_is_lenient(tmp_path: Path) -> None:
    with _emulator(tmp_path, "--target", "zephyr") as (url, lines):
        assert not any("strict" in line for line in lines)
        assert httpx.get(f"{url}/_emulator/strict", timeout=5).json() == {"strict": False}
        assert httpx.get(f"{url}/_emulator/faults", timeout=5).json()["status_503"] == 0.0


def test_strict_flag_on_et_says_there_is_nothing_to_be_strict_about(tmp_path: Path) -> None:
    with _emulator(tmp_path, "--strict") as (url, lines):
        note = next(line for line in lines if "strict mode" in line)
        assert "no strict mode" in note and "ignored" in note
        assert httpx.get(f"{url}/api/projects", auth=("admin", "admin"), timeout=5).is_success


@pytest.mark.parametrize(
    "spec", ["bogus:1", "503", "503:2", "503:0.6,429:0.6", "503:0.1,,reset:0.1", "reset:1,reset:0"]
)
def test_bad_faults_spec_exits_2_with_one_line(
    spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["emulator", "--port", "0", "--faults", spec]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert line.startswith(f"tmupload: error: --faults {spec!r}: ")
    assert "503, 429, reset, slow, drop_after_apply" in line


def test_help_lists_both_flags_with_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["emulator", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--faults SPEC" in text and "default: none" in text
    assert "--strict" in text and "default: off" in text


def test_parse_faults_spec() -> None:
    assert parse_faults_spec("503:0.1,429:0.05,reset:0.02") == Faults(
        status_503=0.1, status_429=0.05, reset=0.02
    )
    assert parse_faults_spec(" slow : 0.5 , drop_after_apply:0.5 ") == Faults(
        slow=0.5, drop_after_apply=0.5
    )
    assert parse_faults_spec("status_503:1") == Faults(status_503=1.0)
    assert parse_faults_spec("") == Faults()
    with pytest.raises(ValueError, match="unknown fault 'teapot'"):
        parse_faults_spec("teapot:0.1")
