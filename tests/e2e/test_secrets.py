"""Credentials never reach output, the outbox or the manifest, however a user tries to pass them."""

from __future__ import annotations

from pathlib import Path

import pytest

from live import Live
from tmupload.cli.app import main

SUITE = "def test_ok():\n    pass\n"
CANARY = "Sup3rS3cret!"


def test_a_password_in_the_url_is_refused_before_anything_is_written(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    url = live.url.replace("http://", f"http://admin:{CANARY}@")
    manifest = tmp_path / "manifest.json"
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(
        "--tm-upload",
        f"--tm-url={url}",
        "--tm-project=Demo",
        f"--tm-outbox={tmp_path / 'outbox'}",
        f"--tm-manifest={manifest}",
        "-p",
        "no:cacheprovider",
    )
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert "must not carry a login" in output and "TMUPLOAD_USER" in output
    assert not (tmp_path / "outbox").exists() and not manifest.exists()
    assert live.api_calls() == []


def test_the_command_refuses_a_url_with_a_password(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.xml"
    report.write_text('<testsuite name="s"><testcase classname="a" name="b"/></testsuite>')
    url = live.url.replace("http://", f"http://admin:{CANARY}@")
    code = main(["import", str(report), "--url", url, "--project", "Demo"])
    captured = capsys.readouterr()
    assert code == 2
    assert CANARY not in captured.out + captured.err
    assert not (tmp_path / ".tmupload").exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--password", CANARY],
        [f"--password={CANARY}"],
        ["--pass", CANARY],  # an abbreviation argparse would have expanded to --password-file
        ["--token", CANARY],
        [f"--tm-password={CANARY}"],
        [f"--to={CANARY}"],  # any start of --token would have been taken for it
    ],
)
def test_the_command_never_echoes_a_secret_given_as_an_option(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite name="s"><testcase classname="a" name="b"/></testsuite>')
    code = main(["import", str(report), "--url", "http://127.0.0.1:9", *argv])
    captured = capsys.readouterr()
    assert code == 2
    assert CANARY not in captured.out + captured.err
    assert "never a command-line value" in captured.err
    assert "--password-file" in captured.err


def test_the_command_takes_no_abbreviated_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "r.xml"
    report.write_text('<testsuite name="s"><testcase classname="a" name="b"/></testsuite>')
    with pytest.raises(SystemExit) as info:
        main(["import", str(report), "--proj", "Demo"])
    assert info.value.code == 2
    assert "unrecognized arguments: --proj" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--tm-password", "--tm-token"])
def test_pytest_refuses_a_secret_flag_without_echoing_it(
    pytester: pytest.Pytester, flag: str
) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(f"{flag}={CANARY}", "-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert f"{flag}: a secret is never a command-line value" in output


@pytest.mark.parametrize(
    "argv",
    [
        [f"--tm-passw={CANARY}"],
        ["--tm-passw", CANARY],
        [f"--tm-pa={CANARY}"],
        ["--tm-pass", CANARY],
        [f"--tm-passwor={CANARY}"],
        [f"--tm-tok={CANARY}"],
        ["--tm-to", CANARY],
        [f"--tm-toke={CANARY}"],
        [f"--tm-secret={CANARY}"],
        [f"--tm-p={CANARY}"],  # too short to tell from --tm-project: refused all the same
        ["--tm-t", CANARY],
    ],
)
def test_pytest_refuses_an_abbreviated_secret_flag_without_echoing_it(
    pytester: pytest.Pytester, argv: list[str]
) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*argv, "-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert "a secret is never a command-line value" in output
    assert "--tm-password-file" in output


def test_pytest_refuses_a_secret_flag_in_addopts_without_echoing_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini(f"[pytest]\naddopts = --tm-passw={CANARY}\n")
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert "--tm-passw: a secret is never a command-line value" in output
