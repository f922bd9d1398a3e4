"""A run too large to read in one answer is read suite by suite, and still maps every node."""

from __future__ import annotations

from pathlib import Path

import pytest

from live import PASSWORD, USER, Live
from tmupload.delivery.pipeline import upload
from tmupload.models import CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import resolve


def _run() -> RunReport:
    cases = [
        CaseResult(
            case_id=f"tests/test_s{s}.py::test_{i}",
            suite=f"tests/test_s{s}.py",
            name=f"test_{i}",
            outcome=Outcome.FAILED if i == 0 else Outcome.PASSED,
            tickets=[TicketRef(key="PAY-17")] if i == 0 else [],
        )
        for s in range(3)
        for i in range(5)
    ]
    return RunReport(name="large", cases=cases)


@pytest.mark.parametrize("expand_up_to", [1_000, 10])
def test_every_failing_result_is_linked_whether_the_nodes_come_whole_or_by_suite(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expand_up_to: int
) -> None:
    monkeypatch.setattr("tmupload.targets.et.runs.EXPAND_UP_TO", expand_up_to)
    flags = {"url": live.url, "project": "Demo", "user": USER, "outbox": str(tmp_path / "ob")}
    outcome = upload(_run(), resolve(flags, {}, {"TMUPLOAD_PASSWORD": PASSWORD}))
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None
    assert [link.status for link in outcome.delivery.links] == ["linked"] * 3
    linked = live.emulator.snapshot()["node_links"]
    assert sorted(link["TicketKey"] for link in linked) == ["PAY-17"] * 3
    reads = [path for method, path, _ in live.api_calls("GET") if "/node" in path]
    children = [path for path in reads if path.endswith("/children")]
    # Whole: one read of every node; by suite: the roots, then each suite's children.
    assert len(children) == (0 if expand_up_to > 15 else 3)
