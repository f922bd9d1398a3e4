"""RunReport -> qTest test logs (pure): the golden file, module paths, the status map."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from qtest_target_helpers import sample_run

from tmupload.errors import ConfigError
from tmupload.models import Attachment, CaseResult, Outcome
from tmupload.targets.qtest.payload import (
    DEFAULT_STATUS_MAP,
    MAX_NAME,
    build_logs,
    module_path,
    parse_status_map,
)

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "payloads" / "qtest_sample.json"


def test_the_sample_run_matches_the_golden_file() -> None:
    logs = build_logs(sample_run(), parse_status_map(None))
    if os.environ.get("TMUPLOAD_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(logs, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert logs == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_every_log_has_what_the_tree_endpoint_requires() -> None:
    for log in build_logs(sample_run(), parse_status_map(None)):
        # docs/servers/qtest.md §4.1: required on the tree endpoint
        for key in ("name", "automation_content", "module_names", "status"):
            assert log[key], key
        assert log["exe_start_date"] <= log["exe_end_date"]
        assert log["exe_start_date"].endswith("+00:00")


def test_attachments_go_in_the_log_and_failures_in_the_note(tmp_path: Path) -> None:
    run = sample_run()
    screenshot = tmp_path / "shot.png"
    screenshot.write_bytes(b"\x89PNG fake")
    run.cases[0].attachments = [
        Attachment(name="shot.png", content_type="image/png", path=str(screenshot), size=9)
    ]
    logs = {log["name"]: log for log in build_logs(run, DEFAULT_STATUS_MAP)}
    (attachment,) = logs["TestLogin::test_ok[a::b]"]["attachments"]
    assert (attachment["name"], attachment["content_type"]) == ("shot.png", "image/png")
    assert base64.b64decode(attachment["data"]) == b"\x89PNG fake"
    assert "attachments" not in logs["test_bad"]
    assert logs["test_bad"]["note"].startswith("AssertionError: expected 401, got 500")
    assert "assert 401 == 500" in logs["test_bad"]["note"]
    assert logs["test_setup"]["note"].startswith("error in setup")
    assert "after 2 attempts" in logs["test_flaky"]["note"]
    assert "note" not in logs["test_xpass"]


def test_a_long_failure_text_is_bounded() -> None:
    case = CaseResult(
        case_id="t.py::test_x",
        suite="t.py",
        name="test_x",
        outcome=Outcome.FAILED,
        message="boom",
        details="x" * 50_000,
    )
    (log,) = build_logs(replace(sample_run(), cases=[case]), DEFAULT_STATUS_MAP)
    assert len(log["note"]) < 4200
    assert "characters cut by tmupload" in log["note"]


@pytest.mark.parametrize(
    ("case_id", "suite", "name", "modules", "short"),
    [
        (
            "tests/a/test_x.py::test_y",
            "tests/a/test_x.py",
            "test_y",
            ["tests", "a", "test_x.py"],
            "test_y",
        ),
        (
            "t.py::TestA::TestB::test_y[p::q]",
            "t.py",
            "TestA::TestB::test_y[p::q]",
            ["t.py", "TestA", "TestB"],
            "TestA::TestB::test_y[p::q]",
        ),
        # an imported JUnit case: suite::classname::name, nested suites joined by " / "
        (
            "svc / com.acme.CheckoutIT::com.acme.CheckoutIT::applies",
            "svc / com.acme.CheckoutIT",
            "applies",
            ["svc", "com.acme.CheckoutIT", "com.acme.CheckoutIT"],
            "com.acme.CheckoutIT::applies",
        ),
        ("test_only", "", "test_only", ["tests"], "test_only"),
    ],
)
def test_module_names_come_from_the_node_id_path(
    case_id: str, suite: str, name: str, modules: list[str], short: str
) -> None:
    case = CaseResult(case_id=case_id, suite=suite, name=name, outcome=Outcome.PASSED)
    assert module_path(case) == (modules, short)


def test_names_are_bounded_and_stay_distinct() -> None:
    cases = [
        CaseResult(
            case_id=f"t.py::test_{i}{'y' * 600}",
            suite="t.py",
            name=f"test_{i}{'y' * 600}",
            outcome=Outcome.PASSED,
        )
        for i in range(2)
    ]
    names = [module_path(case)[1] for case in cases]
    assert all(len(name) <= MAX_NAME for name in names)
    assert names[0] != names[1]


def test_the_status_map_defaults_and_overrides() -> None:
    assert parse_status_map(None) == {
        "passed": "PASS",
        "failed": "FAIL",
        "error": "FAIL",
        "skipped": "SKIP",
        "xfailed": "SKIP",
        "xpassed": "PASS",
    }
    mapping = parse_status_map(" passed=PASSED , Failed=FAILED,error=BLOCKED,")
    assert mapping["passed"] == "PASSED"
    assert mapping["failed"] == "FAILED"
    assert mapping["error"] == "BLOCKED"
    assert mapping["skipped"] == "SKIP"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("passd=PASS", "unknown outcome 'passd'"),
        ("passed", "is not outcome=STATUS"),
        ("passed=", "is not outcome=STATUS"),
        ("passed=A,passed=B", "given twice"),
    ],
)
def test_a_bad_status_map_is_a_config_error_naming_the_option(text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        parse_status_map(text, "--tm-status-map")
    assert str(caught.value).startswith("--tm-status-map: ")
