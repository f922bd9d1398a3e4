"""Credentials never reach output, logs, the outbox or the manifest, on every target, however
a user tries to pass them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fronts import free_port, pointed_at, url_at

from contract.servers import Server, upload_args
from tmupload.cli.app import main
from tmupload.delivery.outbox import Outbox

SUITE = "def test_ok():\n    pass\n"
CANARY = "Sup3rS3cret!"


SUITE_WITH_A_FAILURE = """
import pytest

def test_ok():
    pass

@pytest.mark.ticket("PAY-17")
def test_broken():
    assert False
"""


def _leaks(secret: str) -> list[bytes]:
    """The forms a secret could leak in: as given, and inside a Basic authorization header."""
    basic = base64.b64encode(f"admin:{secret}".encode())
    return [secret.encode(), basic]


def test_no_credential_in_any_output_log_file_or_manifest(
    pytester: pytest.Pytester,
    server: Server,
    outbox: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    canary = "canary-Pa55-6f1e"
    # Every target's emulator takes a login: the canary becomes its password.
    server.emulator.config.users["admin"] = canary  # type: ignore[attr-defined]
    for key, value in {"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": canary}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TMUPLOAD_TOKEN", raising=False)
    pytester.makepyfile(test_a=SUITE_WITH_A_FAILURE)
    manifest = tmp_path / "m.json"
    # A good upload, with every output we can ask for...
    ok = pytester.runpytest_subprocess(
        *upload_args(server, outbox, f"--tm-manifest={manifest}"),
        "-v",
        "--log-level=DEBUG",
        f"--log-file={tmp_path / 'pytest.log'}",
        "--log-file-level=DEBUG",
        f"--junitxml={tmp_path / 'junit.xml'}",
        "-rA",
    )
    assert json.loads(manifest.read_text())["status"] == "uploaded"
    assert server.uploads() == 1
    # ...and one whose server is down, so that the run stays in the outbox, then a resend.
    down = pointed_at(
        upload_args(server, outbox, "--tm-deadline=1"), server, url_at(server, free_port())
    )
    failed = pytester.runpytest_subprocess(*down, "-v", "--log-level=DEBUG")
    assert failed.ret == pytest.ExitCode.TESTS_FAILED
    assert len(Outbox(outbox).entries()) == 1
    assert main(["resend", "--outbox", str(outbox), "--deadline", "1"]) == 1
    resent = capsys.readouterr()
    printed = [ok.stdout, ok.stderr, failed.stdout, failed.stderr, resent.out, resent.err]
    text = "\n".join(str(output) for output in printed).encode()
    assert not any(leak in text for leak in _leaks(canary))
    for path in [*tmp_path.rglob("*"), *pytester.path.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert not any(leak in data for leak in _leaks(canary)), f"credential leaked: {path}"


def test_a_password_in_the_url_is_refused_before_anything_is_written(
    pytester: pytest.Pytester, server: Server, outbox: Path, tmp_path: Path
) -> None:
    url = server.url.replace("http://", f"http://admin:{CANARY}@")
    manifest = tmp_path / "manifest.json"
    pytester.makepyfile(test_a=SUITE)
    args = pointed_at(upload_args(server, outbox, f"--tm-manifest={manifest}"), server, url)
    result = pytester.runpytest_inprocess(*args)  # refused while reading the options
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert "must not carry a login" in output and "TMUPLOAD_USER" in output
    assert not outbox.exists() and not manifest.exists()
    assert server.emulator.requests == []  # type: ignore[attr-defined]


def test_the_command_refuses_a_url_with_a_password(
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    report = tmp_path / "r.xml"
    report.write_text('<testsuite name="s"><testcase classname="a" name="b"/></testsuite>')
    url = server.url.replace("http://", f"http://admin:{CANARY}@")
    code = main(["import", str(report), *pointed_at(server.cli_args(), server, url)])
    captured = capsys.readouterr()
    assert code == 2
    assert CANARY not in captured.out + captured.err
    assert "must not carry a login" in captured.err
    assert not (tmp_path / ".tmupload").exists()
    assert server.emulator.requests == []  # type: ignore[attr-defined]


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
    result = pytester.runpytest_inprocess(f"{flag}={CANARY}", "-p", "no:cacheprovider")
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
    result = pytester.runpytest_inprocess(*argv, "-p", "no:cacheprovider")
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
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert CANARY not in output
    assert "--tm-passw: a secret is never a command-line value" in output
