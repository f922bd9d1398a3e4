"""`tmupload resend` of an outbox holding several servers' runs: an override reaches only the
entries it fits, credentials for one server never go to another, one command sends them all,
and entries can be named."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from servers import SERVERS, Server

from tmupload.delivery.outbox import Outbox
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve

STARTED = datetime(2026, 12, 1, 7, 40, 12, tzinfo=timezone.utc)


@dataclass
class Mixed:
    et: Server
    qtest: Server
    outbox: Path

    def entry_of(self, target: str) -> str:
        return next(e.name for e in Outbox(self.outbox).entries() if e.target == target)

    def targets_left(self) -> list[str]:
        return sorted(entry.target for entry in Outbox(self.outbox).entries())


def _run(name: str) -> RunReport:
    cases = [
        CaseResult(case_id=f"tests/test_{name}.py::test_{i}", suite=f"tests/test_{name}.py",
                   name=f"test_{i}", outcome=Outcome.PASSED)
        for i in range(3)
    ]  # fmt: skip
    return RunReport(name=name, started_at=STARTED, finished_at=STARTED, cases=cases)


def _spool(server: Server, outbox: Path, name: str) -> None:
    args = server.cli_args()
    flags = {args[i].lstrip("-").replace("-", "_"): args[i + 1] for i in range(0, len(args), 2)}
    settings = resolve({**flags, "outbox": str(outbox)}, {}, env={}, flag_style="cli")
    Outbox(outbox).spool(_run(name), settings)


@pytest.fixture
def mixed(tmp_path: Path) -> Iterator[Mixed]:
    with ExitStack() as stack:
        et = stack.enter_context(SERVERS["et"]())
        qtest = stack.enter_context(SERVERS["qtest"]())
        outbox = tmp_path / "outbox"
        _spool(et, outbox, "et_run")
        _spool(qtest, outbox, "qtest_run")
        yield Mixed(et, qtest, outbox)


def _resend(mixed: Mixed, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
    return subprocess.run(
        [sys.executable, "-m", "tmupload", "resend", "--outbox", str(mixed.outbox), *args],
        env={**clean, **env},
        cwd=mixed.outbox.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


BOTH = {"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": "admin", "TMUPLOAD_TOKEN": "demo-token"}


def test_a_url_given_for_a_mixed_outbox_is_refused_before_anything_is_sent(mixed: Mixed) -> None:
    done = _resend(mixed, "--url", mixed.et.url, **BOTH)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "holds runs for et, qtest" in done.stderr and "--target" in done.stderr
    assert "Traceback" not in done.stderr
    assert mixed.et.writes() == [] and mixed.qtest.writes() == []
    assert mixed.targets_left() == ["et", "qtest"]


def test_target_keeps_to_that_servers_entries_and_its_override_reaches_only_them(
    mixed: Mixed,
) -> None:
    done = _resend(mixed, "--target", "qtest", "--url", mixed.qtest.url, **BOTH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resent 1 of 1 run(s)" in done.stdout
    assert set(mixed.qtest.landed()) == {f"tests/test_qtest_run.py::test_{i}" for i in range(3)}
    assert mixed.et.landed() == {} and mixed.et.writes() == []
    assert mixed.targets_left() == ["et"]


def test_one_resend_sends_every_servers_run_each_with_its_own_credentials(mixed: Mixed) -> None:
    # A token (qTest's) and a login (ET's) at once: ET logs in, qTest uses its token.
    done = _resend(mixed, **BOTH)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resent 2 of 2 run(s)" in done.stdout
    assert set(mixed.et.landed()) == {f"tests/test_et_run.py::test_{i}" for i in range(3)}
    assert set(mixed.qtest.landed()) == {f"tests/test_qtest_run.py::test_{i}" for i in range(3)}
    assert mixed.targets_left() == []
    assert "demo-token" not in done.stdout + done.stderr


def test_a_named_entry_is_the_only_one_sent_and_an_unknown_name_lists_them(
    mixed: Mixed,
) -> None:
    name = mixed.entry_of("et")
    done = _resend(mixed, name[:-3], **BOTH)  # a unique start of the name will do
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resent 1 of 1 run(s)" in done.stdout
    assert mixed.targets_left() == ["qtest"] and mixed.qtest.writes() == []
    wrong = _resend(mixed, "no-such-entry", **BOTH)
    assert wrong.returncode == 2
    assert "'no-such-entry' is no entry" in wrong.stderr
    assert mixed.entry_of("qtest") in wrong.stderr
