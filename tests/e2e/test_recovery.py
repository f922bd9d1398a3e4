"""Nothing is lost: a run the server was down for waits in the outbox and `tmupload resend`
lands it exactly once (every target); ET's resume from its journal, a lost answer and
uploads under a seeded mix of faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fronts import free_port, front, pointed_at, url_at

from contract.servers import Server, upload_args
from live import PASSWORD, USER, Live, leaves
from tmupload.cli.app import main
from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import resend, upload
from tmupload.models import CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import resolve
from tmupload.targets.et.emulator import Faults

SUITE = """
import pytest

def test_ok():
    pass

@pytest.mark.ticket("PAY-17")
def test_broken():
    assert False
"""


EXPECTED = {"test_a.py::test_ok": "passed", "test_a.py::test_broken": "failed"}


def test_a_run_the_server_was_down_for_is_resent_once_when_it_is_back(
    pytester: pytest.Pytester, server: Server, outbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()  # the server's address, while nothing answers there
    pytester.makepyfile(test_a=SUITE)
    args = upload_args(server, outbox, "--tm-deadline", "1")
    result = pytester.runpytest_subprocess(*pointed_at(args, server, url_at(server, port)))
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the tests' own status
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*upload FAILED*", "*send them again with: tmupload resend*"])
    assert len(Outbox(outbox).entries()) == 1

    with front(server, port):  # back, on the same address
        assert main(["resend", "--outbox", str(outbox)]) == 0
        assert "resent 1 of 1 run(s)" in capsys.readouterr().out
        assert server.landed() == EXPECTED and server.uploads() == 1
        assert server.links() == {("test_a.py::test_broken", "PAY-17")}
        assert Outbox(outbox).entries() == []
        # A second resend has nothing to do and changes nothing.
        writes = server.writes()
        assert main(["resend", "--outbox", str(outbox)]) == 0
        assert "nothing to resend" in capsys.readouterr().out
        assert server.writes() == writes


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


def test_twenty_sessions_under_every_fault_kind_land_exactly_once(
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
    sessions = 20  # enough for every fault kind to bite (asserted below)
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
    assert {503, 429, 0} <= set(statuses)  # 0: a connection reset or dropped unanswered


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
