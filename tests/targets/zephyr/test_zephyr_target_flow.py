"""The Zephyr target through the pipeline, against the emulator in process: statuses and
notes, a second upload, paging, lost answers on every create call, fallbacks, the status
check before any write, login, dry run, defects."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from zephyr_target_helpers import (
    SERVER,
    Tamper,
    duplicates,
    executions,
    many,
    sample_run,
    settings_for,
)

from tmupload.delivery.outbox import Outbox
from tmupload.delivery.pipeline import resend, upload
from tmupload.errors import ConfigError
from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig
from tmupload.targets.zephyr.linking import NOTES_ONLY

EXPECTED = {
    "tests/api/test_auth.py/TestLogin::test_ok[a::b]": "Pass",
    "tests/api/test_auth.py::test_bad": "Fail",
    "tests/api/test_auth.py::test_setup": "Fail",
    "tests/api/test_auth.py::test_skip": "Not Executed",
    "tests/api/test_auth.py::test_xfail": "Not Executed",
    "tests/api/test_auth.py::test_xpass": "Pass",
    "tests/api/test_auth.py::test_flaky": "Pass",
}


def _statuses(emulator: Emulator, phase: int = -1) -> dict[str, str]:
    found = executions(emulator, phase)
    return {
        name.replace("tests::api::test_auth.py::", "tests/api/test_auth.py::").replace(
            "test_auth.py::TestLogin::", "test_auth.py/TestLogin::"
        ): e["status_name"]
        for name, e in found.items()
    }


def _in_process(**config: Any) -> tuple[Emulator, Tamper]:
    emulator = Emulator(EmulatorConfig(**config))
    return emulator, Tamper(emulator)


def _writes(emulator: Emulator) -> list[tuple[str, str, int]]:
    return [call for call in emulator.requests if call[0] != "GET"]


def test_every_outcome_lands_with_its_status_notes_and_defects(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    outcome = upload(sample_run(), settings_for(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert _statuses(emulator) == EXPECTED
    found = executions(emulator)
    bad = found["tests::api::test_auth.py::test_bad"]
    assert bad["notes"].startswith("Defects: PAY-17, NOPE-9\nAssertionError: expected 401")
    assert bad["defects"] == ["PAY-17"] and bad["actual_time"] == 500
    assert found["tests::api::test_auth.py::test_skip"]["notes"] == "skipped: no network"
    assert "error in setup" in found["tests::api::test_auth.py::test_setup"]["notes"]
    assert all(not e["defects"] for n, e in found.items() if not n.endswith("test_bad"))
    delivery = outcome.delivery
    assert delivery is not None and delivery.run is not None
    assert delivery.totals == {"passed": 3, "failed": 2, "skipped": 2}
    assert delivery.run.where and "cycle Nightly › phase sample" in delivery.run.where
    assert delivery.run.status == "5 of 7 executed"
    assert set(delivery.results) == {case.case_id for case in sample_run().cases}
    assert delivery.results["tests/api/test_auth.py::test_bad"].status == "Fail"
    assert [(link.key, link.status) for link in delivery.links] == [
        ("PAY-17", "linked"),
        ("NOPE-9", "unknown_ticket"),
    ]
    assert duplicates(emulator) == {}


def test_a_second_upload_adds_one_phase_and_no_test_case_or_cycle(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    assert upload(sample_run(), settings_for(tmp_path), transport=transport).ok
    cases = emulator.snapshot()["test_cases"]
    folders = emulator.snapshot()["folders"]
    second = upload(sample_run("second"), settings_for(tmp_path), transport=transport)
    assert second.ok, second.error
    shot = emulator.snapshot()
    assert shot["test_cases"] == cases and shot["folders"] == folders
    assert [len(cycle["phases"]) for cycle in shot["cycles"]] == [2]
    assert _statuses(emulator, 0) == _statuses(emulator, 1) == EXPECTED
    assert not [p for m, p, _ in _writes(emulator)[-12:] if p.endswith(("bulk", "testcasetree"))]


def test_executions_are_mapped_from_the_answers_without_listing_them(tmp_path: Path) -> None:
    emulator, transport = _in_process(result_size_cap=40)
    outcome = upload(many(130), settings_for(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None
    assert outcome.delivery.totals == {"passed": 117, "failed": 13}
    assert len(executions(emulator)) == 130
    assert not [p for m, p, _ in emulator.requests if m == "GET" and p.endswith("/execution")]


def test_more_executions_than_a_page_are_all_mapped_when_they_must_be_listed(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process(result_size_cap=40)
    # A server without execution/modify (the phase is assigned whole, then listed) and
    # whose status answers show nothing (the statuses are read back).
    transport.answer("POST", r"/execution/modify$", 404)
    transport.blank("PUT", r"/execution/bulk/execute$")
    outcome = upload(many(130), settings_for(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None
    assert outcome.delivery.totals == {"passed": 117, "failed": 13}
    assert len(executions(emulator)) == 130
    landed = {name: e["status_name"] for name, e in executions(emulator).items()}
    assert landed == {
        name: ("Fail" if int(name.rsplit("_", 1)[1]) % 10 == 0 else "Pass") for name in landed
    }
    pages = [p for m, p, _ in emulator.requests if m == "GET" and p.endswith("/execution")]
    assert len(pages) == 8  # 4 pages (40 a page) when mapping, 4 when reading back


def test_bulk_calls_carry_at_most_500(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    # No output attachments here: each costs two calls, and this counts the bulk calls.
    outcome = upload(many(1_001), settings_for(tmp_path, attach="none"), transport=transport)
    assert outcome.ok, outcome.error
    posts = Counter(p for m, p, _ in emulator.requests if m in ("POST", "PUT"))
    assert posts["/flex/services/rest/latest/testcase/bulk"] == 3
    assert posts["/flex/services/rest/latest/execution/bulk/execute"] == 3
    assert outcome.delivery is not None and outcome.delivery.requests < 60


@pytest.mark.parametrize(
    ("method", "pattern"),
    [
        ("POST", r"/testcasetree$"),
        ("POST", r"/testcase/bulk$"),
        ("POST", r"/cycle$"),
        ("POST", r"/cycle/\d+/phase$"),
        ("POST", r"/assign/bytree/"),
        ("POST", r"/assignmenttree/\d+/assign$"),
        ("PUT", r"/execution/bulk/execute$"),
        ("POST", r"/defectmapping/?$"),
    ],
    ids=["folder", "testcases", "cycle", "phase", "add", "assign", "execute", "defect"],
)
def test_a_lost_answer_on_each_write_duplicates_nothing(
    tmp_path: Path, method: str, pattern: str
) -> None:
    emulator, transport = _in_process()
    outcome = upload(
        sample_run(), settings_for(tmp_path), transport=transport.lose(method, pattern)
    )
    if not outcome.ok:  # left for a resend: it finishes without creating anything twice
        (again,) = resend(settings_for(tmp_path), transport=transport)
        assert again.ok, again.error
    assert duplicates(emulator) == {}
    assert _statuses(emulator) == EXPECTED
    assert [len(c["phases"]) for c in emulator.snapshot()["cycles"]] == [1]
    assert executions(emulator)["tests::api::test_auth.py::test_bad"]["defects"] == ["PAY-17"]


def test_a_resend_after_the_server_was_down_resumes_and_creates_nothing_twice(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process()
    transport.answer("PUT", r"/execution/bulk/execute$", 503, times=20)
    first = upload(sample_run(), settings_for(tmp_path), transport=transport)
    assert not first.ok and "503" in str(first.error)
    entry = Outbox(tmp_path / "outbox").entries()[0]
    assert entry.journal.done("phase") is not None
    transport.rules.clear()
    (again,) = resend(settings_for(tmp_path), transport=transport)
    assert again.ok, again.error
    assert duplicates(emulator) == {} and _statuses(emulator) == EXPECTED
    assert Outbox(tmp_path / "outbox").entries() == []


def test_a_status_the_server_lacks_or_has_inactive_stops_before_any_write(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path, status_map="skipped=Deferred,error=Broken")
    outcome = upload(sample_run(), settings, transport=transport)
    assert isinstance(outcome.error, ConfigError)
    message = str(outcome.error)
    assert "--tm-status-map" in message and "inactive status 5 Deferred" in message
    assert "error=Broken names no status" in message and "4 Blocked" in message
    assert _writes(emulator) == []


def test_a_bad_status_map_syntax_fails_before_anything_is_sent(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    with pytest.raises(ConfigError, match="unknown outcome 'pased'"):
        upload(sample_run(), settings_for(tmp_path, status_map="pased=Pass"), transport=transport)
    assert emulator.requests == [] and not (tmp_path / "outbox").exists()


def test_skipped_can_map_to_a_status(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    settings = settings_for(tmp_path, status_map="skipped=Blocked,xfailed=4")
    outcome = upload(sample_run(), settings, transport=transport)
    assert outcome.ok, outcome.error
    assert _statuses(emulator)["tests/api/test_auth.py::test_skip"] == "Blocked"
    assert outcome.delivery is not None and outcome.delivery.totals["errors"] == 2


@pytest.mark.parametrize(
    "url",
    [SERVER, f"{SERVER}/flex/services/rest/latest", f"{SERVER}/flex/services/rest/v3/"],
)
def test_the_url_with_or_without_the_rest_path(tmp_path: Path, url: str) -> None:
    emulator, transport = _in_process(tree_results_envelope=True)
    assert upload(sample_run(), settings_for(tmp_path, url=url), transport=transport).ok
    assert _statuses(emulator) == EXPECTED


def test_basic_login_and_a_wrong_password_that_is_never_shown(tmp_path: Path) -> None:
    _, transport = _in_process()
    env = {"TMUPLOAD_PASSWORD": "admin"}
    ok = upload(sample_run(), settings_for(tmp_path, env=env, user="admin"), transport=transport)
    assert ok.ok, ok.error
    env = {"TMUPLOAD_PASSWORD": "canary-secret-pw"}
    bad = upload(sample_run(), settings_for(tmp_path, env=env, user="admin"), transport=transport)
    message = str(bad.error)
    assert "HTTP 401" in message and "Authentication failed" in message
    assert "TMUPLOAD_PASSWORD" in message and "canary-secret-pw" not in message
    for path in (tmp_path / "outbox").rglob("*"):
        if path.is_file():
            assert b"canary-secret-pw" not in path.read_bytes()


def test_a_read_only_account_is_refused_at_the_first_write(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    env = {"TMUPLOAD_PASSWORD": "viewer"}
    outcome = upload(
        sample_run(), settings_for(tmp_path, env=env, user="viewer"), transport=transport
    )
    assert "HTTP 403" in str(outcome.error) and "read-only" in str(outcome.error)
    assert emulator.snapshot()["cycles"] == [] and emulator.snapshot()["folders"] == []


def test_unknown_project_and_release_name_the_fix(tmp_path: Path) -> None:
    _, transport = _in_process()
    nope = upload(sample_run(), settings_for(tmp_path, project="Nope"), transport=transport)
    assert "no Zephyr project 'Nope'" in str(nope.error) and "--tm-project" in str(nope.error)
    late = upload(sample_run(), settings_for(tmp_path, release="2030.1"), transport=transport)
    assert "no release '2030.1'" in str(late.error) and "2026.4" in str(late.error)


def test_the_dry_run_only_reads(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    first = upload(sample_run(), settings_for(tmp_path, dry_run=True), transport=transport)
    assert first.error is None and first.delivery is not None
    assert _writes(emulator) == []
    plan = first.delivery.plan
    assert plan[0] == "would create repository folder Automation"
    assert "would create 7 test case(s); 0 exist" in plan
    assert "would create cycle 'Nightly'" in plan
    assert any("Pass 3, Fail 2, left unexecuted 2" in line for line in plan)
    assert upload(sample_run(), settings_for(tmp_path), transport=transport).ok
    again = upload(sample_run(), settings_for(tmp_path, dry_run=True), transport=transport)
    assert again.delivery is not None
    assert "would create 0 test case(s); 7 exist" in again.delivery.plan


def test_without_bulk_execute_statuses_go_per_status_and_notes_per_execution(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process()
    transport.answer("PUT", r"/execution/bulk/execute$", 404)
    messages: list[str] = []
    outcome = upload(
        sample_run(), settings_for(tmp_path), transport=transport, progress=messages.append
    )
    assert outcome.ok, outcome.error
    assert _statuses(emulator) == EXPECTED
    bad = executions(emulator)["tests::api::test_auth.py::test_bad"]
    assert bad["notes"].startswith("Defects: PAY-17")
    assert any("lacks it" in m for m in messages)
    calls = Counter(p.rsplit("/", 1)[-1] for m, p, _ in emulator.requests if m == "PUT")
    assert calls["bulk"] == 1  # the passes, without notes, in one call


def test_a_refused_whole_phase_assign_falls_back_to_execution_modify(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    transport.answer("POST", r"/assignmenttree/\d+/assign$", 404)
    assert upload(sample_run(), settings_for(tmp_path), transport=transport).ok
    assert _statuses(emulator) == EXPECTED
    assert any(p.endswith("/execution/modify") for _, p, _ in emulator.requests)


def test_a_refused_defect_mapping_keeps_the_keys_in_the_notes_and_the_upload_ok(
    tmp_path: Path,
) -> None:
    emulator, transport = _in_process()
    transport.answer("POST", r"/defectmapping/?$", 400)
    messages: list[str] = []
    outcome = upload(
        sample_run(), settings_for(tmp_path), transport=transport, progress=messages.append
    )
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None
    assert {(link.key, link.status, link.reason) for link in outcome.delivery.links} == {
        ("PAY-17", "noted", NOTES_ONLY),
        ("NOPE-9", "noted", NOTES_ONLY),
    }
    assert sum("refused POST /defectmapping/" in m for m in messages) == 1
    bad = executions(emulator)["tests::api::test_auth.py::test_bad"]
    assert bad["notes"].startswith("Defects: PAY-17, NOPE-9") and bad["defects"] == []


def test_a_resend_never_links_twice(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    transport.lose("GET", r"/execution/\d+$", times=30)  # every read-back fails: links pending
    first = upload(sample_run(), settings_for(tmp_path), transport=transport)
    transport.rules.clear()
    if not first.ok:
        (again,) = resend(settings_for(tmp_path), transport=transport)
        assert again.ok, again.error
    assert executions(emulator)["tests::api::test_auth.py::test_bad"]["defects"] == ["PAY-17"]


def test_httpx_transport_errors_on_reads_are_retried(tmp_path: Path) -> None:
    emulator, transport = _in_process()
    transport.lose("GET", r"/user/current$", times=2)
    outcome = upload(sample_run(), settings_for(tmp_path), transport=transport)
    assert outcome.ok, outcome.error
    assert [p for m, p, _ in emulator.requests].count(
        "/flex/services/rest/latest/user/current"
    ) == 3


def test_a_server_with_a_smaller_bulk_limit_gets_halved_batches_and_everything_lands(
    tmp_path: Path,
) -> None:
    # Our batches hold 500; this server takes 40 a call and says so with a 400.
    emulator, transport = _in_process(max_bulk=40)
    outcome = upload(many(130), settings_for(tmp_path, attach="none"), transport=transport)
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None
    assert outcome.delivery.totals == {"passed": 117, "failed": 13}
    assert len(executions(emulator)) == 130
    refused = Counter(p.rsplit("/", 2)[-2:][0] for m, p, s in emulator.requests if s == 400)
    assert refused, "the server's limit was never hit: the test proves nothing"
    assert duplicates(emulator) == {}
