"""Shared by the Zephyr target tests (imported by name: a unique module): a sample run, the
settings, a transport that loses or replaces chosen answers, and an emulator served over a
real loopback socket with the environment pointing at it."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from tmupload.models import Attempt, CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import Settings, resolve
from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig, EmulatorServer
from tmupload.targets.zephyr.emulator import serve_in_thread as serve_zephyr

TOKEN = "demo-token"
SERVER = "http://ze.test"
STARTED = datetime(2026, 4, 1, 10, 15, 30, 123000, tzinfo=timezone.utc)
SUITE_FILE = "tests/api/test_auth.py"


def sample_run(name: str = "sample") -> RunReport:
    """Every outcome, a class, a parameter id holding ``::``, output, tickets, a rerun."""
    suite = SUITE_FILE

    def case(rest: str, outcome: Outcome, **extra: Any) -> CaseResult:
        return CaseResult(
            case_id=f"{suite}::{rest}", suite=suite, name=rest, outcome=outcome, **extra
        )

    return RunReport(
        name=name,
        started_at=STARTED,
        finished_at=STARTED,
        cases=[
            case("TestLogin::test_ok[a::b]", Outcome.PASSED, duration=1.25, stdout="hello\n"),
            case(
                "test_bad",
                Outcome.FAILED,
                duration=0.5,
                message="AssertionError: expected 401, got 500",
                details="def test_bad():\n>   assert 401 == 500\nE   AssertionError",
                tickets=[TicketRef(key="PAY-17"), TicketRef(key="NOPE-9")],
            ),
            case(
                "test_setup",
                Outcome.ERROR,
                failed_phase="setup",
                message="RuntimeError: setup exploded",
            ),
            case("test_skip", Outcome.SKIPPED, message="no network"),
            case("test_xfail", Outcome.XFAILED, message="known bug"),
            case("test_xpass", Outcome.XPASSED),
            case(
                "test_flaky",
                Outcome.PASSED,
                attempts=[Attempt(outcome=Outcome.FAILED, message="timeout")],
            ),
        ],
    )


def many(count: int, files: int = 1) -> RunReport:
    """``count`` cases in ``files`` test files; every tenth fails."""
    cases = [
        CaseResult(
            case_id=f"tests/test_many{i % files or ''}.py::test_{i}",
            suite=f"tests/test_many{i % files or ''}.py",
            name=f"test_{i}",
            outcome=Outcome.FAILED if i % 10 == 0 else Outcome.PASSED,
            message="boom" if i % 10 == 0 else "",
        )
        for i in range(count)
    ]
    return replace(sample_run(), cases=cases)


def settings_for(
    tmp_path: Path, url: str = SERVER, env: dict[str, str] | None = None, **flags: Any
) -> Settings:
    values: dict[str, Any] = {
        "url": url,
        "project": "Demo",
        "target": "zephyr",
        "release": "2026.4",
        "cycle": "Nightly",
        "outbox": str(tmp_path / "outbox"),
        "allow_insecure_http": True,
    }
    values.update(flags)
    return resolve(values, {}, env if env is not None else {"TMUPLOAD_TOKEN": TOKEN})


_BLANK = -1  # a rule's "status": applied, then answered 200 with an empty body


class Tamper(httpx.BaseTransport):
    """In process: send to the emulator, then lose the answer (the request was applied) or
    answer ``status`` instead of the emulator (the request was not) for matching requests,
    or apply them and answer 200 with an empty body (``blank``: an answer that shows
    nothing). Thread-safe (the stream's thread and the delivery share it)."""

    def __init__(self, emulator: Emulator) -> None:
        self.inner = httpx.WSGITransport(app=emulator)
        self.rules: list[list[Any]] = []  # [method, pattern, times, status or None]
        self._lock = threading.Lock()

    def lose(self, method: str, pattern: str, times: int = 1) -> Tamper:
        self.rules.append([method, re.compile(pattern), times, None])
        return self

    def answer(self, method: str, pattern: str, status: int, times: int = 1_000_000) -> Tamper:
        self.rules.append([method, re.compile(pattern), times, status])
        return self

    def blank(self, method: str, pattern: str, times: int = 1_000_000) -> Tamper:
        self.rules.append([method, re.compile(pattern), times, _BLANK])
        return self

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            rule = next(
                (
                    rule
                    for rule in self.rules
                    if rule[2] and request.method == rule[0] and rule[1].search(request.url.path)
                ),
                None,
            )
            if rule is not None:
                rule[2] -= 1
        if rule is None:
            return self.inner.handle_request(request)
        status = rule[3]
        if status is not None and status != _BLANK:
            body = {"errorCode": "X", "errorMsg": f"refused by the test ({status})"}
            return httpx.Response(status, json=body, request=request)
        response = self.inner.handle_request(request)
        response.read()
        if status == _BLANK:
            return httpx.Response(200, content=b"", request=request)
        raise httpx.ReadError("the answer was lost (test)", request=request)


def below(folders: list[str], name: str) -> list[str]:
    """``folders`` without the last ones that the test case's name carries (its classes:
    ``[..., "test_a.py", "TestA"]`` and ``TestA::test_x`` -> ``[..., "test_a.py"]``)."""
    for count in range(len(folders), 0, -1):
        if name.startswith("::".join(folders[-count:]) + "::"):
            return folders[:-count]
    return folders


def executions(emulator: Emulator, phase: int = -1) -> dict[str, dict[str, Any]]:
    """test case name (after the repository folder: ``file::Class::name``) -> execution."""
    phases = [p for c in emulator.snapshot()["cycles"] for p in c["phases"]]
    found = {}
    for execution in phases[phase]["executions"] if phases else []:
        name = execution["test_case_name"]
        folders = below(execution["folder_path"].split("/")[1:], name)
        found["::".join([*folders, name])] = execution
    return found


def duplicates(emulator: Emulator) -> dict[str, int]:
    """Anything the server holds twice: folders by path, test cases by folder and name,
    cycles by name, executions by phase and test case."""
    shot = emulator.snapshot()
    counts: Counter[str] = Counter()
    counts.update(f"folder {f['path']}" for f in shot["folders"])
    counts.update(f"case {t['folder_path']}/{t['name']}" for t in shot["test_cases"])
    counts.update(f"cycle {c['name']}" for c in shot["cycles"])
    for cycle in shot["cycles"]:
        counts.update(f"phase {p['name']}" for p in cycle["phases"])
        for phase in cycle["phases"]:
            counts.update(f"execution {phase['id']} {e['tct_id']}" for e in phase["executions"])
    return {key: count for key, count in counts.items() if count > 1}


@dataclass
class ZLive:
    emulator: Emulator
    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    def phases(self) -> list[dict[str, Any]]:
        return [p for c in self.emulator.snapshot()["cycles"] for p in c["phases"]]

    def writes(self) -> list[tuple[str, str, int]]:
        return [call for call in self.emulator.requests if call[0] != "GET"]

    def args(self, tmp_path: Path, *extra: str) -> list[str]:
        return [
            "--tm-upload", "--tm-target", "zephyr", "--tm-url", self.url,
            "--tm-project", "Demo", "--tm-release", "2026.4", "--tm-cycle", "Nightly",
            f"--tm-outbox={tmp_path / 'outbox'}", "-p", "no:cacheprovider", "-p", "no:randomly",
            *extra,
        ]  # fmt: skip


@pytest.fixture
def start_zephyr(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ZLive]]:
    """Start a Zephyr emulator (EmulatorConfig overrides as keywords); stopped after the test."""
    monkeypatch.setenv("TMUPLOAD_TOKEN", TOKEN)
    for name in ("USER", "PASSWORD", "UPLOAD", "TARGET", "URL", "PROJECT", "OUTBOX", "DRY_RUN"):
        monkeypatch.delenv(f"TMUPLOAD_{name}", raising=False)
    with ExitStack() as stack:

        def start(**overrides: Any) -> ZLive:
            emulator = Emulator(EmulatorConfig(**overrides))
            return ZLive(emulator, stack.enter_context(serve_zephyr(emulator)))

        yield start


@pytest.fixture
def zlive(start_zephyr: Callable[..., ZLive]) -> ZLive:
    return start_zephyr()
