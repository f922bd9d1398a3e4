"""Shared by the qTest target tests (imported by name: a unique module): a sample run, and
an emulator served over a real loopback socket with the environment pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tmupload.models import Attempt, CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import Settings, resolve
from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig, EmulatorServer
from tmupload.targets.qtest.emulator import serve_in_thread as serve_qtest

TOKEN = "demo-token"
#: A qTest URL for in-process transports (never resolved: the transport answers).
SITE = "http://acme.qtest.test"
STARTED = datetime(2026, 3, 1, 10, 15, 30, 123000, tzinfo=timezone.utc)


def settings_for(
    tmp_path: Path, url: str = SITE, env: dict[str, str] | None = None, **flags: Any
) -> Settings:
    """Settings of a qTest upload to ``url`` (project Demo, cycle CI/main), outbox in
    ``tmp_path``, the token from ``env`` (default: the emulator's)."""
    values: dict[str, Any] = {
        "url": url,
        "project": "Demo",
        "target": "qtest",
        "cycle": "CI/main",
        "outbox": str(tmp_path / "outbox"),
        "allow_insecure_http": True,
    }
    values.update(flags)
    return resolve(values, {}, env if env is not None else {"TMUPLOAD_TOKEN": TOKEN})


def sample_run() -> RunReport:
    """Every outcome, a class, a parameter id holding ``::``, output, tickets, a rerun."""
    suite = "tests/api/test_auth.py"
    return RunReport(
        name="sample",
        started_at=STARTED,
        finished_at=STARTED,
        cases=[
            CaseResult(
                case_id=f"{suite}::TestLogin::test_ok[a::b]",
                suite=suite,
                name="TestLogin::test_ok[a::b]",
                outcome=Outcome.PASSED,
                duration=1.25,
                stdout="hello\n",
            ),
            CaseResult(
                case_id=f"{suite}::test_bad",
                suite=suite,
                name="test_bad",
                outcome=Outcome.FAILED,
                duration=0.5,
                message="AssertionError: expected 401, got 500",
                details="def test_bad():\n>   assert 401 == 500\nE   AssertionError",
                tickets=[TicketRef(key="PAY-17")],
            ),
            CaseResult(
                case_id=f"{suite}::test_setup",
                suite=suite,
                name="test_setup",
                outcome=Outcome.ERROR,
                failed_phase="setup",
                message="RuntimeError: setup exploded",
            ),
            CaseResult(
                case_id=f"{suite}::test_skip",
                suite=suite,
                name="test_skip",
                outcome=Outcome.SKIPPED,
                message="no network",
            ),
            CaseResult(
                case_id=f"{suite}::test_xfail",
                suite=suite,
                name="test_xfail",
                outcome=Outcome.XFAILED,
                message="known bug",
            ),
            CaseResult(
                case_id=f"{suite}::test_xpass",
                suite=suite,
                name="test_xpass",
                outcome=Outcome.XPASSED,
            ),
            CaseResult(
                case_id=f"{suite}::test_flaky",
                suite=suite,
                name="test_flaky",
                outcome=Outcome.PASSED,
                attempts=[Attempt(outcome=Outcome.FAILED, message="timeout")],
            ),
        ],
    )


@dataclass
class QLive:
    emulator: Emulator
    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    def runs(self) -> list[dict[str, Any]]:
        return list(self.emulator.snapshot()["test_runs"])

    def by_content(self) -> dict[str, dict[str, Any]]:
        return {run["automation_content"]: run for run in self.runs()}

    def writes(self) -> list[tuple[str, str, int]]:
        return [call for call in self.emulator.requests if call[0] != "GET"]

    def args(self, tmp_path: Path, *extra: str) -> list[str]:
        return [
            "--tm-upload",
            "--tm-target",
            "qtest",
            "--tm-url",
            self.url,
            "--tm-project",
            "Demo",
            "--tm-cycle",
            "CI/main",
            f"--tm-outbox={tmp_path / 'outbox'}",
            "-p",
            "no:cacheprovider",
            *extra,
        ]


@pytest.fixture
def start_qtest(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., QLive]]:
    """Start a qTest emulator (EmulatorConfig overrides as keywords); stopped after the test."""
    monkeypatch.setenv("TMUPLOAD_TOKEN", TOKEN)
    for name in ("TMUPLOAD_USER", "TMUPLOAD_PASSWORD", "TMUPLOAD_UPLOAD", "TMUPLOAD_TARGET"):
        monkeypatch.delenv(name, raising=False)
    with ExitStack() as stack:

        def start(**overrides: Any) -> QLive:
            config = EmulatorConfig(**{"job_delay": 0.0, **overrides})
            emulator = Emulator(config)
            return QLive(emulator, stack.enter_context(serve_qtest(emulator)))

        yield start


@pytest.fixture
def qlive(start_qtest: Callable[..., QLive]) -> QLive:
    return start_qtest()
