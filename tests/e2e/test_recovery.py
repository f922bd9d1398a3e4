"""Nothing is lost: the outbox, `tmupload resend`, and uploads under a seeded mix of faults."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from live import PASSWORD, USER, Live, leaves, upload_args
from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import resend, upload
from tmupload.models import CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import resolve
from tmupload.targets.et.emulator import Faults, serve_in_thread

SUITE = """
import pytest

def test_ok():
    pass

@pytest.mark.ticket("PAY-17")
def test_broken():
    assert False
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TMUPLOAD_USER=USER, TMUPLOAD_PASSWORD=PASSWORD)
    return subprocess.run(
        [sys.executable, "-m", "tmupload", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_server_down_then_resend_brings_the_run_in(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    port = live.server.port
    live.server.stop()  # the server goes away before the session ends
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path, "--tm-deadline", "3"))
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*upload FAILED*", "*send them again with: tmupload resend*"])
    assert len(Outbox(tmp_path / "outbox").entries()) == 1

    with serve_in_thread(live.emulator, port=port):  # back, on the same address
        done = _cli("resend", "--outbox", str(tmp_path / "outbox"), cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "resent 1 of 1 run(s)" in done.stdout
        run = live.only_run()
        nodes = leaves(run)
        assert {name for _, name in nodes} == {"test_ok", "test_broken"}
        assert [link["TicketKey"] for link in live.emulator.snapshot()["node_links"]] == ["PAY-17"]
        assert Outbox(tmp_path / "outbox").entries() == []
        # A second resend has nothing to do and sends nothing.
        before = len(live.emulator.requests)
        again = _cli("resend", "--outbox", str(tmp_path / "outbox"), cwd=tmp_path)
        assert again.returncode == 0 and "nothing to resend" in again.stdout
        assert len(live.emulator.requests) == before


def test_resend_resumes_after_the_upload_and_never_repeats_it(live: Live, tmp_path: Path) -> None:
    """Upload done, links pending: resend only links, and a link already made counts as done."""
    settings = _settings(live, tmp_path)
    run = _run(0, failing=2)
    first = upload(run, settings)
    assert first.ok
    assert len(live.runs()) == 1
    assert len(live.emulator.snapshot()["node_links"]) == 2
    # Now the same run is resent from a journal that says "uploaded, links pending".
    entry = Outbox(tmp_path / "outbox").spool(run, settings)
    placed = {"project_id": _project_id(live), "assignment_id": _assignment(live)}
    entry.journal.finish("placement", placed)
    entry.journal.finish("uploaded", {"run_id": live.runs()[0]["Id"]})
    outcomes = resend(settings)
    assert [outcome.ok for outcome in outcomes] == [True]
    statuses = Counter(link.status for link in outcomes[0].delivery.links)  # type: ignore[union-attr]
    assert statuses == {"already_linked": 2}
    assert len(live.runs()) == 1  # the upload was not repeated
    assert len(live.emulator.snapshot()["node_links"]) == 2  # no link doubled


def _project_id(live: Live) -> str:
    return str(live.emulator.snapshot()["projects"][0]["Id"])


def _assignment(live: Live) -> str:
    return str(live.emulator.snapshot()["assignments"][0]["Id"])


def _settings(live: Live, tmp_path: Path, **overrides: str):  # type: ignore[no-untyped-def]
    flags = {"url": live.url, "project": "Demo", "user": USER, "outbox": str(tmp_path / "outbox")}
    flags.update(overrides)
    return resolve(flags, {}, {"TMUPLOAD_PASSWORD": PASSWORD})


def _run(number: int, failing: int = 2) -> RunReport:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=number)
    cases = []
    for index in range(6):
        outcome = Outcome.FAILED if index < failing else Outcome.PASSED
        cases.append(
            CaseResult(
                case_id=f"tests/test_s{number}.py::test_{index}",
                suite=f"tests/test_s{number}.py",
                name=f"test_{index}",
                outcome=outcome,
                tickets=[TicketRef(key="PAY-17"), TicketRef(key="DEMO-1")] if index == 0 else [],
            )
        )
    return RunReport(name=f"session {number}", started_at=start, finished_at=start, cases=cases)


def test_fifty_sessions_under_every_fault_kind_land_exactly_once(
    start_live: Callable[..., Live], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tmupload.targets.et.target.IMPORT_GRACE", 2.0)
    faults = Faults(
        status_503=0.06,
        status_429=0.05,
        retry_after=1,
        reset=0.05,
        slow=0.04,
        slow_seconds=0.35,
        drop_after_apply=0.05,
    )
    live = start_live(faults=faults, seed=20261123)
    settings = _settings(live, tmp_path, timeout="0.25", link_concurrency="4")
    sessions = 50
    first_pass = [upload(_run(number), settings) for number in range(sessions)]
    kept_after_first_pass = sum(1 for outcome in first_pass if not outcome.ok)

    live.emulator.configure_faults()  # the server recovers
    rounds = 0
    while Outbox(tmp_path / "outbox").entries():
        rounds += 1
        assert rounds <= 3, "resend did not converge"
        resend(settings)

    snapshot = live.emulator.snapshot()
    seen = Counter(suite for run in snapshot["runs"] for (suite, _name) in leaves(run) if suite)
    # Every session's results are in ET exactly once: no run missing, none duplicated.
    assert len(snapshot["runs"]) == sessions
    assert seen == {f"tests/test_s{number}.py": 6 for number in range(sessions)}
    links = Counter(
        (link["RunId"], link["NodeName"], link["TicketKey"]) for link in snapshot["node_links"]
    )
    assert len(links) == sessions * 2 and set(links.values()) == {1}  # no link doubled
    assert len(snapshot["script_packages"]) == 1 and len(snapshot["assignments"]) == 1

    statuses = Counter(status for _, _, status in live.emulator.requests)
    print(
        f"\nfault mix {faults}\nsessions kept after the first pass: {kept_after_first_pass}/"
        f"{sessions}, resend rounds: {rounds}\nserver answers: {dict(statuses)}"
    )
    assert kept_after_first_pass > 0  # the faults did bite: the outbox was needed


def test_upload_whose_answer_is_lost_finds_its_run_instead_of_posting_again(
    live: Live, tmp_path: Path
) -> None:
    settings = _settings(live, tmp_path)
    upload(_run(1), settings)  # creates packages, test and assignment
    # The next POST (the run upload) is applied, then the connection drops.
    live.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})
    outcome = upload(_run(2), settings)
    assert outcome.ok, outcome.error
    assert len(live.runs()) == 2
    upload_posts = [call for call in live.api_calls("POST") if call[1].endswith("/runs")]
    assert len(upload_posts) == 2  # one per session: the dropped one was not sent again


def test_no_credential_in_any_output_or_file(
    pytester: pytest.Pytester,
    start_live: Callable[..., Live],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    canary = "canary-Pa55-6f1e"
    live = start_live(users={"canary-user": canary})
    monkeypatch.setenv("TMUPLOAD_USER", "canary-user")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", canary)
    pytester.makepyfile(test_a=SUITE)
    log_file = tmp_path / "pytest.log"
    junit = tmp_path / "junit.xml"
    manifest = tmp_path / "m.json"
    # A good upload, with every output we can ask for...
    ok = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-manifest", str(manifest)),
        "-v",
        "--log-level=DEBUG",
        f"--log-file={log_file}",
        "--log-file-level=DEBUG",
        f"--junitxml={junit}",
        "-rA",
    )
    # ...and a failing one whose run stays in the outbox, then a resend.
    live.server.stop()
    failed = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-deadline", "2"), "-v", "--log-level=DEBUG"
    )
    resent = _cli("resend", "--outbox", str(tmp_path / "outbox"), "--deadline", "2", cwd=tmp_path)
    assert failed.ret == 1 and resent.returncode == 1
    printed = "".join(
        [
            ok.stdout.str(),
            ok.stderr.str(),
            failed.stdout.str(),
            failed.stderr.str(),
            resent.stdout,
            resent.stderr,
        ]
    )
    assert json.loads(manifest.read_text())["status"] == "uploaded"
    assert canary not in printed
    for path in [*tmp_path.rglob("*"), *pytester.path.rglob("*")]:
        if path.is_file():
            assert canary.encode() not in path.read_bytes(), f"credential leaked into {path}"
