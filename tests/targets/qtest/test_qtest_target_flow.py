"""The qTest target through the pipeline, against the emulator in process and on a socket:
chunking and 413, failed jobs, lost answers, login, dry run, read-back and links."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from qtest_target_helpers import QLive, qlive, sample_run, start_qtest
from qtest_target_helpers import settings_for as _settings

from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import resend, upload
from tmupload.errors import ConfigError
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig
from tmupload.targets.qtest.submit import failure_message

__all__ = ["qlive", "start_qtest"]  # fixtures used here


def _in_process(**config: Any) -> tuple[Emulator, httpx.WSGITransport]:
    emulator = Emulator(EmulatorConfig(**{"job_delay": 0.0, **config}))
    return emulator, httpx.WSGITransport(app=emulator)


def _big_run(count: int, output: int = 0) -> RunReport:
    run = sample_run()
    cases = [
        CaseResult(
            case_id=f"tests/test_many.py::test_{i}",
            suite="tests/test_many.py",
            name=f"test_{i}",
            outcome=Outcome.PASSED,
            stdout="o" * output,
        )
        for i in range(count)
    ]
    return replace(run, cases=cases)


def _posts(emulator: Emulator, suffix: str = "/auto-test-logs") -> list[int]:
    return [
        status
        for method, path, status in emulator.requests
        if method == "POST" and path.endswith(suffix)
    ]


def test_every_outcome_lands_with_its_status_and_reads_back(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    outcome = upload(sample_run(), _settings(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    runs = {
        run["automation_content"].split("::", 2)[-1].replace("TestLogin::", ""): run
        for run in emulator.snapshot()["test_runs"]
    }
    statuses = {name: run["logs"][-1]["automation_status"] for name, run in runs.items()}
    assert statuses == {
        "test_ok[a::b]": "PASS",
        "test_bad": "FAIL",
        "test_setup": "FAIL",
        "test_skip": "SKIP",
        "test_xfail": "SKIP",
        "test_xpass": "PASS",
        "test_flaky": "PASS",
    }
    assert runs["test_ok[a::b]"]["cycle_path"] == "CI/main/tests/api/test_auth.py/TestLogin"
    delivery = outcome.delivery
    assert delivery is not None and delivery.run is not None
    assert delivery.totals == {"passed": 3, "failed": 2, "not_run": 2}
    assert delivery.run.url and "tab=testexecution" in delivery.run.url
    assert set(delivery.results) == {case.case_id for case in sample_run().cases}
    assert delivery.results["tests/api/test_auth.py::test_bad"].status == "Failed"
    assert [(link.key, link.status) for link in delivery.links] == [("PAY-17", "linked")]


def test_a_413_halves_the_chunk_and_every_log_lands_once(tmp_path: Path) -> None:
    emulator, transport = _in_process(max_body_bytes=6_000)
    # --tm-attach all: every (passing) case carries its captured output as an attachment.
    settings = _settings(tmp_path, attach="all")
    outcome = upload(_big_run(16, output=200), settings, transport=transport)
    assert outcome.ok, outcome.error
    posts = _posts(emulator)
    assert posts[0] == 413 and posts.count(201) >= 2
    runs = emulator.snapshot()["test_runs"]
    assert len(runs) == 16 and all(len(run["logs"]) == 1 for run in runs)


def test_a_log_too_large_alone_is_sent_without_its_attachment(tmp_path: Path) -> None:
    emulator, transport = _in_process(max_body_bytes=3_000)
    settings = _settings(tmp_path, attach="all")
    outcome = upload(_big_run(1, output=5_000), settings, transport=transport)
    assert outcome.ok, outcome.error  # the result landed; the refused file is reported
    (run,) = emulator.snapshot()["test_runs"]
    assert run["logs"][0]["attachments"] == []
    assert "attachments left out" in run["logs"][0]["note"]
    assert outcome.delivery is not None
    assert [item.status for item in outcome.delivery.attachments] == ["left_out"]


def test_chunks_follow_the_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tmupload.targets.qtest.submit.MAX_LOGS", 3)
    emulator, transport = _in_process()
    outcome = upload(_big_run(7), _settings(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert _posts(emulator) == [201, 201, 201]
    assert len(emulator.snapshot()["test_runs"]) == 7


def test_a_failed_job_reports_its_content_and_keeps_the_run(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    settings = _settings(tmp_path, status_map="passed=GREEN")
    outcome = upload(sample_run(), settings, transport=transport)
    assert not outcome.ok
    message = str(outcome.error)
    assert "FAILED" in message and "GREEN" in message and "--tm-status-map" in message
    assert emulator.snapshot()["test_runs"] == []
    assert len(Outbox(tmp_path / "outbox").entries()) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"message": "bad batch", "errors": [{"index": 0}]}', "bad batch ({'index': 0})"),
        ("plain text failure", "plain text failure"),
        (None, "no details given"),
    ],
)
def test_failure_content_as_json_string_or_text(content: str | None, expected: str) -> None:
    assert failure_message({"state": "FAILED", "content": content}) == expected


def test_a_bad_status_map_fails_before_anything_is_sent(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    with pytest.raises(ConfigError) as info:
        upload(sample_run(), _settings(tmp_path, status_map="pased=PASS"), transport=transport)
    assert "--tm-status-map" in str(info.value) and "unknown outcome 'pased'" in str(info.value)
    assert emulator.requests == []
    assert not (tmp_path / "outbox").exists()  # nothing spooled either


def test_a_bad_status_map_stops_pytest_before_the_tests_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_TOKEN", "t")
    pytester.makepyfile(test_a="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--tm-upload", "--tm-target=qtest", "--tm-url=http://127.0.0.1:9", "--tm-project=P",
        "--tm-status-map=pased=PASS", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--tm-status-map*unknown outcome 'pased'*"])
    assert "test_ok" not in result.stdout.str()


def test_login_with_user_and_password_through_oauth(tmp_path: Path) -> None:
    emulator, transport = _in_process(site_name="acme")
    env = {"TMUPLOAD_PASSWORD": "admin"}
    outcome = upload(sample_run(), _settings(tmp_path, env=env, user="admin"), transport=transport)
    assert outcome.ok, outcome.error
    assert emulator.requests[0][:2] == ("POST", "/oauth/token")
    assert sum(1 for call in emulator.requests if call[1] == "/oauth/token") == 1


def test_a_wrong_password_names_what_to_check_and_never_the_secret(tmp_path: Path) -> None:
    _, transport = _in_process(site_name="acme")
    env = {"TMUPLOAD_PASSWORD": "canary-secret-pw"}
    outcome = upload(sample_run(), _settings(tmp_path, env=env, user="admin"), transport=transport)
    message = str(outcome.error)
    assert "/oauth/token" in message and "TMUPLOAD_PASSWORD" in message
    assert "canary-secret-pw" not in message
    for path in (tmp_path / "outbox").rglob("*"):
        if path.is_file():
            assert b"canary-secret-pw" not in path.read_bytes()


def test_an_expired_token_logs_in_once_more_and_never_loops(tmp_path: Path) -> None:
    emulator, transport = _in_process(site_name="acme", token_lifetime=0.0)
    env = {"TMUPLOAD_PASSWORD": "admin"}
    outcome = upload(sample_run(), _settings(tmp_path, env=env, user="admin"), transport=transport)
    assert not outcome.ok and "401" in str(outcome.error)
    assert [call[1] for call in emulator.requests].count("/oauth/token") == 2


def test_the_dry_run_only_reads(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    assert upload(sample_run(), _settings(tmp_path), transport=transport).ok
    before = len(emulator.requests)
    outcome = upload(
        sample_run(), _settings(tmp_path, dry_run=True, cycle="CI/other"), transport=transport
    )
    assert outcome.error is None and outcome.delivery is not None
    assert all(method == "GET" for method, _, _ in emulator.requests[before:])
    plan = outcome.delivery.plan
    assert plan[0] == "would create test cycle CI/other"
    assert plan[1].startswith("would submit 7 test logs in 1 chunk(s)")
    again = upload(sample_run(), _settings(tmp_path, dry_run=True), transport=transport)
    assert again.delivery is not None
    assert "7 of them add a log to an existing test run" in " ".join(again.delivery.plan)


def test_a_lost_submission_answer_never_adds_a_second_log(qlive: QLive, tmp_path: Path) -> None:
    settings = _settings(tmp_path, url=qlive.url)
    assert upload(sample_run(), settings).ok
    qlive.emulator.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})
    second = replace(sample_run(), started_at=sample_run().started_at.replace(minute=20))
    outcome = upload(second, settings)
    assert outcome.ok, outcome.error
    assert [len(run["logs"]) for run in qlive.runs()] == [2] * 7
    assert _posts(qlive.emulator) == [201, 0]


def test_a_lost_cycle_creation_is_found_not_repeated(
    start_qtest: Callable[..., QLive], tmp_path: Path
) -> None:
    from tmupload.targets.qtest.emulator import Faults

    live = start_qtest(faults=Faults(fail_next=["drop_after_apply"], only_methods={"POST"}))
    outcome = upload(sample_run(), _settings(tmp_path, url=live.url))
    assert outcome.ok, outcome.error
    names = Counter(cycle["path"] for cycle in live.emulator.snapshot()["cycles"])
    assert names["CI"] == 1 and names["CI/main"] == 1


def test_resend_after_an_interrupted_submission_looks_before_sending(
    qlive: QLive, tmp_path: Path
) -> None:
    """The journal says: a chunk was POSTed, its fate unknown. It had landed: no new POST."""
    settings = _settings(tmp_path, url=qlive.url)
    run = sample_run()
    qlive.emulator.configure_faults(status_503=1.0, only_methods={"GET"})
    assert not upload(run, settings).ok  # nothing sent: the GETs all fail
    qlive.emulator.configure_faults()
    # Simulate the lost answer: submit the logs behind the journal's back, then resend.
    entry = Outbox(tmp_path / "outbox").entries()[0]
    first = upload(run, _settings(tmp_path / "other", url=qlive.url))
    assert first.ok
    placed = {
        "project_id": str(qlive.emulator.snapshot()["projects"][0]["id"]),
        "cycle_id": str(
            next(c["id"] for c in qlive.emulator.snapshot()["cycles"] if c["path"] == "CI/main")
        ),
    }
    entry.journal.finish("placement", placed)
    entry.journal.declare("submit", {"start": 0, "end": 7, "at_epoch": 0.0})
    posts_before = len(_posts(qlive.emulator))
    outcomes = resend(settings)
    assert [o.ok for o in outcomes] == [True]
    assert len(_posts(qlive.emulator)) == posts_before
    assert [len(run["logs"]) for run in qlive.runs()] == [1] * 7
    links = outcomes[0].delivery.links  # type: ignore[union-attr]
    assert [(link.key, link.status) for link in links] == [("PAY-17", "already_linked")]


def test_the_summary_gives_no_run_status_for_a_cycle_only_the_totals(tmp_path: Path) -> None:
    """A cycle has no verdict: the queue jobs' SUCCESS is not the run's status."""
    from tmupload.delivery.report import summary_lines

    _, transport = _in_process()
    outcome = upload(sample_run(), _settings(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None and outcome.delivery.run is not None
    assert outcome.delivery.run.status is None
    text = "\n".join(line for _, line in summary_lines(outcome))
    assert "server totals: " in text and "failed" in text
    assert "SUCCESS" not in text and "run status" not in text
