"""RunReport -> what Zephyr is sent (pure): the golden file, places and names, notes, the
status map's syntax and its resolution against the server's status list."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from zephyr_target_helpers import sample_run

from tmupload.errors import ConfigError, ServerProtocolError
from tmupload.models import CaseResult, Outcome
from tmupload.targets.zephyr.api import split_base, zephyr_message
from tmupload.targets.zephyr.payload import (
    MAX_NAME,
    case_place,
    cut_name,
    execution_item,
    notes,
)
from tmupload.targets.zephyr.payload import testcase_item as case_item
from tmupload.targets.zephyr.statusmap import (
    DEFAULT_STATUS_MAP,
    ServerStatus,
    parse_status_list,
    parse_status_map,
    resolve_status_map,
)

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "payloads" / "zephyr_sample.json"

STATUSES = [
    ServerStatus("1", "Pass", True),
    ServerStatus("2", "Fail", True),
    ServerStatus("4", "Blocked", True),
    ServerStatus("5", "Deferred", False),
    ServerStatus("10", "Not Executed", True),
]


def _payload() -> list[dict[str, Any]]:
    """Per case: its place, the bulk-create item and the execute item (fixed ids)."""
    run = sample_run()
    resolved = resolve_status_map(DEFAULT_STATUS_MAP, STATUSES)
    out = []
    for index, case in enumerate(run.cases):
        path, name = case_place(case, ["Automation"])
        keys = [t.key for t in case.tickets]
        status = resolved[case.outcome.value] or "10"
        out.append(
            {
                "case_id": case.case_id,
                "folder": list(path),
                "testcase": case_item(100 + index, name, case.case_id, 3, 4),
                "execute": execution_item(
                    500 + index, 1, status, notes(case, keys), case.duration, 1775038530123
                ),
            }
        )
    return out


def test_the_sample_run_matches_the_golden_file() -> None:
    data = _payload()
    if os.environ.get("TMUPLOAD_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_places_follow_the_node_id() -> None:
    case = CaseResult(
        case_id="tests/api/test_auth.py::TestLogin::test_ok[a::b]",
        suite="tests/api/test_auth.py",
        name="TestLogin::test_ok[a::b]",
        outcome=Outcome.PASSED,
    )
    assert case_place(case, ["CI", "Automation"]) == (
        ("CI", "Automation", "tests", "api", "test_auth.py", "TestLogin"),
        "TestLogin::test_ok[a::b]",
    )
    imported = CaseResult(
        case_id="suite / inner::pkg.Mod::test_x",
        suite="suite / inner",
        name="test_x",
        classname="pkg.Mod",
        outcome=Outcome.PASSED,
    )
    assert case_place(imported, ["A"]) == (
        ("A", "suite", "inner", "pkg.Mod"),
        "pkg.Mod::test_x",
    )


def test_long_names_are_cut_to_255_and_stay_distinct() -> None:
    head = "test_" + "x" * 300
    first, second = cut_name(head + "[1]"), cut_name(head + "[2]")
    assert len(first) == len(second) == MAX_NAME
    assert first != second and first[:200] == second[:200]
    assert cut_name("short") == "short" and cut_name("  ") == "(unnamed)"


def test_notes_lead_with_the_defects_and_stay_bounded() -> None:
    case = CaseResult(
        case_id="a.py::t",
        suite="a.py",
        name="t",
        outcome=Outcome.FAILED,
        message="AssertionError",
        details="x" * 20_000,
    )
    text = notes(case, ["PAY-17", "PAY-18"])
    assert text.startswith("Defects: PAY-17, PAY-18\nAssertionError")
    assert len(text) < 4_200 and "characters cut by tmupload" in text
    skipped = replace(case, outcome=Outcome.SKIPPED, message="no db")
    assert notes(replace(skipped, details=""), []) == "skipped: no db"


def test_the_status_map_syntax() -> None:
    assert parse_status_map(None) == DEFAULT_STATUS_MAP
    mapped = parse_status_map("skipped=Blocked, error=4, xfailed=UNEXECUTED")
    assert (mapped["skipped"], mapped["error"], mapped["xfailed"]) == ("Blocked", "4", "unexecuted")
    with pytest.raises(ConfigError, match=r"unknown outcome 'pased'.*passed, failed"):
        parse_status_map("pased=Pass")
    with pytest.raises(ConfigError, match="'passed' is not outcome=STATUS"):
        parse_status_map("passed")
    with pytest.raises(ConfigError, match="given twice"):
        parse_status_map("passed=1,passed=2", "--status-map")


def test_the_map_resolves_by_name_or_id_and_names_what_the_server_has() -> None:
    resolved = resolve_status_map(parse_status_map("skipped=blocked,error=4"), STATUSES)
    assert resolved == {
        "passed": "1",
        "failed": "2",
        "error": "4",
        "skipped": "4",
        "xfailed": None,
        "xpassed": "1",
    }
    with pytest.raises(ConfigError) as info:
        resolve_status_map(parse_status_map("skipped=Deferred,failed=Broken"), STATUSES)
    message = str(info.value)
    assert "failed=Broken names no status" in message
    assert "skipped=Deferred is the inactive status 5 Deferred" in message
    assert "1 Pass, 2 Fail, 4 Blocked, 5 Deferred (inactive), 10 Not Executed" in message


def test_default_names_fall_back_to_the_documented_ids() -> None:
    renamed = [ServerStatus("1", "Passed", True), ServerStatus("2", "Failed", True)]
    assert resolve_status_map(DEFAULT_STATUS_MAP, renamed)["passed"] == "1"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "testresult.testresultStatus.LOV", "value": '[{"id": 1, "value": "Pass"}]'},
        {"value": [{"id": "1", "name": "Pass", "active": "true"}]},
        [{"name": "testresult.testresultStatus.LOV", "value": '[{"id":1,"value":"Pass"}]'}],
        [{"id": 1, "value": "Pass", "active": True}],
    ],
)
def test_the_status_list_in_every_plausible_shape(body: Any) -> None:
    assert parse_status_list(body) == [ServerStatus("1", "Pass", True)]


def test_a_status_list_that_is_not_one_is_a_protocol_error() -> None:
    with pytest.raises(ServerProtocolError, match="LOV"):
        parse_status_list({"value": "not json"})


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://ze.example.com", "https://ze.example.com/flex/services/rest/latest/"),
        ("https://ze.example.com/", "https://ze.example.com/flex/services/rest/latest/"),
        (
            "https://h/ze/flex/services/rest/latest/",
            "https://h/ze/flex/services/rest/latest/",
        ),
        ("https://h/flex/services/rest/v3", "https://h/flex/services/rest/v3/"),
    ],
)
def test_the_base_url_with_or_without_the_rest_path(url: str, base: str) -> None:
    assert split_base(url)[1] == base


def test_error_messages_nested_or_flat() -> None:
    import httpx

    nested = json.dumps({"errorCode": "A", "message": "Invalid token"})
    assert zephyr_message(httpx.Response(401, json={"message": nested})) == "Invalid token"
    flat = {"errorCode": "X", "errorMsg": "Release 9 not found", "message": "other"}
    assert zephyr_message(httpx.Response(404, json=flat)) == "Release 9 not found"
    assert zephyr_message(httpx.Response(500, text="oops")) == "oops"
