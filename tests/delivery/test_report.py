"""The terminal summary: counts agree with their nouns, and only a real run status is shown."""

from __future__ import annotations

from pathlib import Path

from tmupload.delivery.outcome import UploadOutcome
from tmupload.delivery.report import counted, summary_lines
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve
from tmupload.targets.base import Delivery, LinkResult, RunRef


def _outcome(tmp_path: Path, cases: int, delivery: Delivery) -> UploadOutcome:
    run = RunReport(
        cases=[
            CaseResult(case_id=f"t.py::t{i}", suite="t.py", name=f"t{i}", outcome=Outcome.FAILED)
            for i in range(cases)
        ]
    )
    settings = resolve({"outbox": str(tmp_path / "ob")}, {}, {})
    return UploadOutcome(run=run, settings=settings, delivery=delivery)


def _text(outcome: UploadOutcome) -> str:
    return "\n".join(text for _, text in summary_lines(outcome))


def test_counted() -> None:
    assert counted(1, "error") == "1 error"
    assert counted(0, "error") == "0 errors"
    assert counted(2, "unknown ticket", "unknown tickets") == "2 unknown tickets"


def test_a_count_of_one_takes_the_singular(tmp_path: Path) -> None:
    delivery = Delivery(
        target="Enterprise Tester",
        run=RunRef(id="r1", url="https://et.example.com/run/1", status="Failed"),
        totals={"passed": 1, "failed": 1, "errors": 1},
        unmapped=["t.py::t0"],
        links=[LinkResult("t.py::t0", "PAY-1", "unknown_ticket")],
    )
    text = _text(_outcome(tmp_path, 1, delivery))
    assert "uploaded 1 result to Enterprise Tester" in text
    assert "server totals: 1 passed, 1 failed, 1 error (run status Failed)" in text
    assert "1 result has no record on the server" in text
    assert "ticket links: 1 unknown ticket" in text
    assert "errors" not in text and "(s)" not in text


def test_more_than_one_takes_the_plural(tmp_path: Path) -> None:
    delivery = Delivery(
        target="qTest Manager",
        run=RunRef(id="CL-1", url="https://acme.qtestnet.com/p/1"),
        totals={"passed": 2, "errors": 3},
        unmapped=["t.py::t0", "t.py::t1"],
        links=[
            LinkResult("t.py::t0", "PAY-1", "unknown_ticket"),
            LinkResult("t.py::t1", "PAY-2", "unknown_ticket"),
        ],
    )
    text = _text(_outcome(tmp_path, 2, delivery))
    assert "uploaded 2 results to qTest Manager" in text
    assert "server totals: 2 passed, 3 errors\n" in text  # no run status: qTest has none
    assert "2 results have no record on the server" in text
    assert "ticket links: 2 unknown tickets" in text


def test_the_deferred_summary_s_send_hint_carries_the_outbox_and_the_target(
    tmp_path: Path,
) -> None:
    from tmupload.delivery.report import deferred_lines

    folder = tmp_path / "spooled here"
    settings = resolve({"target": "zephyr", "outbox": str(folder), "run_key": "k1"}, {}, {})
    lines = [text for _, text in deferred_lines(3, folder / "entry", settings)]
    assert f"send it with: tmupload send --outbox '{folder}' --target zephyr" in lines


def test_a_mixed_outbox_names_the_outbox_command_that_lists_it(tmp_path: Path) -> None:
    import pytest

    from tmupload.delivery.outbox import Outbox
    from tmupload.delivery.pipeline import select_entries
    from tmupload.errors import ConfigError

    folder = tmp_path / "ob"
    run = RunReport(
        cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
    )
    for target in ("et", "qtest"):
        spooled = resolve({"target": target, "url": "https://x.test", "project": "P"}, {}, {})
        Outbox(folder).spool(run, spooled)
    given = resolve({"url": "https://y.test", "outbox": str(folder)}, {}, {}, flag_style="cli")
    with pytest.raises(ConfigError) as info:
        select_entries(given)
    assert f"(tmupload outbox --outbox {folder} lists them)" in str(info.value)
