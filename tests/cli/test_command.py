"""The tmupload command as a user runs it: messages, exit codes, and the emulator command."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from live import PASSWORD, USER, Live
from tmupload.cli.app import main
from tmupload.delivery.outbox import Outbox
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve

pytest_plugins = ["e2e.conftest"]


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)


def test_check_reports_each_item(
    live: Live, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "--url", live.url, "--project", "Demo"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok   server reachable over http" in out
    assert "ok   login: admin accepted by Enterprise Tester 6.8.0.0" in out
    assert "ok   project 'Demo' found" in out
    assert "the first upload will create script package Automated Tests" in out
    assert "ok   defect trackers for ticket links: Jira" in out
    assert {method for method, _, _ in live.api_calls()} == {"GET"}


def test_check_names_the_fix_for_a_bad_login(
    live: Live, cli_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "wrong")
    assert main(["check", "--url", live.url, "--project", "Demo"]) == 1
    out = capsys.readouterr().out
    assert "ok   server reachable" in out
    assert "FAIL login:" in out and "HTTP 401" in out and "TMUPLOAD_PASSWORD" in out


def test_check_unknown_project(
    live: Live, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--url", live.url, "--project", "Missing"]) == 1
    assert (
        "FAIL project and placement: there is no project named 'Missing'" in capsys.readouterr().out
    )


def test_check_blames_a_url_without_the_application_path_not_the_login(
    live: Live, cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    url = live.url.removesuffix("/EnterpriseTester")
    assert main(["check", "--url", url, "--project", "Demo"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL URL: GET {url}/api answered HTTP 404" in out
    assert "so --url is probably wrong" in out and "application path" in out
    assert "TMUPLOAD_PASSWORD" not in out


def test_check_unreachable_server(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--url", "http://127.0.0.1:9/ET", "--project", "Demo", "--deadline", "2"])
    assert code == 1
    assert "FAIL server reachable:" in capsys.readouterr().out


def test_check_without_settings_is_a_failed_line(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check"]) == 2  # missing configuration is a usage error, as the README says
    out = capsys.readouterr().out
    assert "FAIL configuration: upload needs --url" in out
    assert "--tm-url" not in out  # the command names its own flags


def test_check_with_a_port_out_of_range_is_one_line_and_exit_2(
    cli_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "http://127.0.0.1:510879/EnterpriseTester"
    assert main(["check", "--url", url, "--project", "Demo"]) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert captured.err.startswith("tmupload: error: invalid setting --url")
    assert "the port '510879' is not a number from 1 to 65535" in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_cli_reads_ini_keys_from_pyproject(
    live: Live, cli_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.pytest.ini_options]\ntm_url = "{live.url}"\ntm_project = "Demo"\n'
    )
    assert main(["check"]) == 0, capsys.readouterr().out


def test_resend_with_an_empty_outbox(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resend", "--outbox", "nowhere"]) == 0
    assert f"nothing to resend in {Path.cwd() / 'nowhere'}" in capsys.readouterr().out


def test_resend_without_a_password_is_a_usage_error(
    live: Live,
    cli_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = resolve(
        {"url": live.url, "project": "Demo", "user": USER, "outbox": str(tmp_path / "ob")},
        {},
        {"TMUPLOAD_PASSWORD": PASSWORD},
    )
    run = RunReport(
        cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
    )
    Outbox(tmp_path / "ob").spool(run, settings)
    monkeypatch.delenv("TMUPLOAD_PASSWORD")
    assert main(["resend", "--outbox", str(tmp_path / "ob")]) == 2
    assert "TMUPLOAD_PASSWORD" in capsys.readouterr().err
    assert live.api_calls() == []
    assert (
        main(["resend", "--outbox", str(tmp_path / "ob"), "--password-file", "/nonexistent"]) == 2
    )


def test_the_outbox_listing_hints_commands_that_find_what_it_listed(
    live: Live,
    cli_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "spooled here"  # a space: the hint must survive a shell
    settings = resolve(
        {"url": live.url, "project": "Demo", "user": USER, "outbox": str(folder)},
        {},
        {"TMUPLOAD_PASSWORD": PASSWORD},
    )
    run = RunReport(
        cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
    )
    Outbox(folder).spool(run, settings)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["outbox", "--outbox", str(folder)]) == 0
    listed = capsys.readouterr().out
    assert f"tmupload: 1 run waiting in {folder}:" in listed and "(1 result, spooled" in listed
    hint = listed.strip().splitlines()[-1]
    resend_line, drop_line = hint.removeprefix("send them with: ").split("; give one up with: ")
    assert resend_line == f"tmupload resend --outbox '{folder}'"
    assert drop_line == f"tmupload outbox drop ENTRY --outbox '{folder}'"
    # Run as suggested, from another folder, it finds the run and sends it.
    assert main(shlex.split(resend_line)[1:]) == 0
    assert "resent 1 of 1 run(s)" in capsys.readouterr().out
    assert len(live.runs()) == 1


def test_the_summary_s_resend_hint_names_the_outbox_and_the_target_given(
    tmp_path: Path,
) -> None:
    from tmupload.delivery.outcome import UploadOutcome
    from tmupload.delivery.report import resend_command

    run = RunReport(cases=[])
    given = resolve({"target": "qtest", "outbox": str(tmp_path / "ob")}, {}, {})
    assert resend_command(UploadOutcome(run=run, settings=given)) == (
        f"tmupload resend --outbox {tmp_path / 'ob'} --target qtest"
    )
    default = resolve({"outbox": str(tmp_path / "ob")}, {}, {})
    assert resend_command(UploadOutcome(run=run, settings=default)) == (
        f"tmupload resend --outbox {tmp_path / 'ob'}"
    )


def test_unknown_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["resend", "--no-such-option"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_python_dash_m_and_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tmupload", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("tmupload ")


def _ctrl_c_as_in_a_terminal() -> None:
    # A suite started in the background by a non-interactive shell inherits SIGINT ignored,
    # and so would the command: give it the disposition a terminal's foreground job has.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_emulator_command_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tmupload", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Enterprise Tester emulator at http://127.0.0.1:")
        url = first.split(" at ", 1)[1].strip()
        answer = httpx.get(f"{url}/api/projects", auth=("admin", "admin"), timeout=5)
        assert answer.json()["Items"][0]["Name"] == "Demo"
        assert httpx.get(f"{url}/api", auth=("admin", "nope"), timeout=5).status_code == 401
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    assert code == 0


def test_demo_shows_what_landed(tmp_path: Path) -> None:
    suite = Path(__file__).resolve().parents[2] / "examples" / "suite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
    done = subprocess.run(
        [sys.executable, "-m", "tmupload", "demo", "--suite", str(suite)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tmupload: ticket links: 4 linked" in done.stdout
    assert "Failed   test_refund_rounds_to_cents  -> PAY-17 (1 incident(s)" in done.stdout
    assert "Error    test_currency_conversion  -> PAY-18, PAY-19 (2 incident(s)" in done.stdout
    assert "Error    test_ledger_cleanup\n" in done.stdout  # no ticket, no link


def test_check_says_plainly_that_write_access_was_not_verified(
    live: Live, cli_env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "viewer")  # a read-only account passes every read
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "viewer")
    assert main(["check", "--url", live.url, "--project", "Demo"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("note write access: not verified")
    assert "'viewer' must be allowed to create" in last and "HTTP 403" in last


def test_the_line_after_a_ctrl_c_hints_commands_a_shell_takes_as_given(
    cli_env: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tmupload.cli import app

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(app, "cmd_resend", interrupted)
    folder = tmp_path / "spooled here"
    assert main(["resend", "--outbox", str(folder)]) == 130
    err = capsys.readouterr().err
    assert f"see it with tmupload outbox --outbox '{folder}'," in err
    assert f"send it with tmupload resend --outbox '{folder}'" in err
