"""A command names its own flags (``--url``), never pytest's (``--tm-url``), in every line it
prints: messages built where the front end was not known are spelled at the command's door."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tmupload.cli import app
from tmupload.cli.app import main
from tmupload.cli.common import command_spelling
from tmupload.delivery.outbox import Outbox
from tmupload.errors import ConfigError
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import Settings, resolve


def test_command_spelling_changes_only_the_flags_the_commands_have() -> None:
    text = "fix --tm-project or --tm-url; --tm-on-error=warn; add --tm-upload; ini tm_url"
    assert command_spelling(text) == (
        "fix --project or --url; --on-error=warn; add --tm-upload; ini tm_url"
    )
    assert command_spelling("--tm-password-file and --tm-status-map") == (
        "--password-file and --status-map"
    )


def test_an_error_a_command_prints_names_the_command_s_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fails(args: object) -> int:
        raise ConfigError("the server said no: check --tm-url and --tm-release")

    monkeypatch.setattr(app, "cmd_check", fails)
    assert main(["check"]) == 2
    assert "check --url and --release" in capsys.readouterr().err


def test_a_check_line_names_the_command_s_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def checks(settings: Settings) -> Iterator[tuple[bool | None, str]]:
        yield False, "project: not found — fix --tm-project"

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMUPLOAD_USER", "u")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "p")
    monkeypatch.setattr("tmupload.targets.et.check.run_checks", checks)
    assert main(["check", "--url", "http://127.0.0.1:9/ET", "--project", "P"]) == 1
    assert "FAIL project: not found — fix --project" in capsys.readouterr().out


def test_the_outbox_shows_an_error_a_pytest_run_recorded_in_the_command_s_spelling(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = resolve(
        {"url": "http://127.0.0.1:9/ET", "project": "Nope", "outbox": str(tmp_path / "ob")},
        {},
        {},
    )
    run = RunReport(
        cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
    )
    entry = Outbox(tmp_path / "ob").spool(run, settings)
    entry.record_error("there is no project named 'Nope' — fix --tm-project")
    assert main(["outbox", "--outbox", str(tmp_path / "ob")]) == 0
    assert "last error: there is no project named 'Nope' — fix --project" in capsys.readouterr().out
