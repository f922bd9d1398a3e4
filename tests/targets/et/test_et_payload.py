"""The ET payload is a pure function of the run: checked against golden files."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tmupload.models import Attempt, CaseResult, Outcome, RunReport, TicketRef
from tmupload.pytest.fold import split_nodeid
from tmupload.targets.et.payload import MAX_NODE_NAME, build_payload, node_name

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "payloads"
LONG_ID = "x" * 500


def _case(nodeid: str, outcome: Outcome, **kwargs: object) -> CaseResult:
    suite, name, classname = split_nodeid(nodeid)
    return CaseResult(
        case_id=nodeid, suite=suite, name=name, classname=classname, outcome=outcome, **kwargs
    )


def sample_run() -> RunReport:
    start = datetime(2026, 11, 23, 8, 0, 0, tzinfo=timezone.utc)
    return RunReport(
        name="pytest example 2026-11-23",
        started_at=start,
        finished_at=datetime(2026, 11, 23, 8, 0, 3, 500000, tzinfo=timezone.utc),
        cases=[
            _case("tests/test_a.py::test_pass", Outcome.PASSED, duration=0.01, stdout="out\x1b[0m"),
            _case(
                "tests/test_a.py::TestOne::test_same",
                Outcome.FAILED,
                duration=0.5,
                message="AssertionError: boom",
                details="def test_same():\n>   assert 0\nE   AssertionError: boom",
                tickets=[TicketRef(key="PAY-17")],
            ),
            _case("tests/test_a.py::TestTwo::test_same", Outcome.PASSED),
            _case(
                "tests/deep/er/test_b.py::test_param[é-中文-[x]]",
                Outcome.ERROR,
                failed_phase="setup",
                message="RuntimeError: db down",
                details="RuntimeError: db down",
            ),
            _case(
                "tests/deep/er/test_b.py::test_teardown",
                Outcome.ERROR,
                failed_phase="teardown",
                message="RuntimeError: cleanup",
            ),
            _case("tests/deep/er/test_b.py::test_skip", Outcome.SKIPPED, message="not today"),
            _case("tests/deep/er/test_b.py::test_xfail", Outcome.XFAILED, message="known bug"),
            _case("tests/deep/er/test_b.py::test_xpass", Outcome.XPASSED, message="maybe"),
            _case(
                f"tests/deep/er/test_b.py::test_long[{LONG_ID}]",
                Outcome.PASSED,
                attempts=[Attempt(outcome=Outcome.FAILED, message="flaked once")],
                stderr="warning <&>",
            ),
        ],
    )


def _golden(name: str, data: bytes) -> bytes:
    path = GOLDEN / name
    if os.environ.get("TMUPLOAD_UPDATE_GOLDEN") == "1":
        path.write_bytes(data)
    return path.read_bytes()


def test_payload_matches_golden_file() -> None:
    payload = build_payload(sample_run())
    assert payload.xml == _golden("et_sample.xml", payload.xml)


def test_every_case_maps_back_one_to_one() -> None:
    run = sample_run()
    payload = build_payload(run)
    assert sorted(payload.case_ids.values()) == sorted(case.case_id for case in run.cases)
    root = ET.fromstring(payload.xml)
    sent = {
        (suite.get("name"), case.get("name"))
        for suite in root.iter("testsuite")
        for case in suite.iter("testcase")
    }
    assert sent == set(payload.case_ids)
    # The same test name in two classes of one file stays two distinct nodes.
    assert ("tests/test_a.py", "TestOne::test_same") in sent
    assert ("tests/test_a.py", "TestTwo::test_same") in sent


@pytest.mark.parametrize(
    ("outcome", "element", "kind"),
    [
        (Outcome.PASSED, None, None),
        (Outcome.XPASSED, None, None),
        (Outcome.FAILED, "failure", "pytest.failure"),
        (Outcome.ERROR, "error", "pytest.setup_error"),
        (Outcome.SKIPPED, "skipped", "pytest.skip"),
        (Outcome.XFAILED, "skipped", "pytest.xfail"),
    ],
)
def test_outcome_elements(outcome: Outcome, element: str | None, kind: str | None) -> None:
    run = RunReport(cases=[_case("t.py::test", outcome)])
    testcase = next(ET.fromstring(build_payload(run).xml).iter("testcase"))
    children = [child for child in testcase if child.tag in ("failure", "error", "skipped")]
    if element is None:
        assert children == []
    else:
        assert [child.tag for child in children] == [element]
        assert children[0].get("type") == kind


def test_long_names_are_shortened_deterministically_and_stay_unique() -> None:
    first = _case(f"t.py::test[{'a' * 600}1]", Outcome.PASSED)
    second = _case(f"t.py::test[{'a' * 600}2]", Outcome.PASSED)
    assert len(node_name(first)) <= MAX_NODE_NAME
    assert node_name(first) != node_name(second)
    assert node_name(first) == node_name(replace(first))


def test_control_characters_never_break_the_document() -> None:
    run = RunReport(
        cases=[_case("t.py::test", Outcome.FAILED, message="bad \x00\x07 byte", stdout="\x1b[31m")]
    )
    root = ET.fromstring(build_payload(run).xml)  # would raise on an invalid document
    failure = next(root.iter("failure"))
    assert failure.get("message") == "bad \\x00\\x07 byte"
