"""Attachments: copied into the outbox at spool time, bounded, named for their attempt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tmupload.delivery.outbox import Outbox
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.properties import ATTACHMENT_PROPERTY, FIXTURE_PROPERTY
from tmupload.settings import Settings, resolve


def _settings(tmp_path: Path, **flags: str) -> Settings:
    values = {"url": "http://127.0.0.1:9/ET", "project": "P", "user": "u", **flags}
    return resolve(values, {}, {"TMUPLOAD_PASSWORD": "pw"})


def _case(name: str, outcome: Outcome, *properties: tuple[str, str], **fields: str) -> CaseResult:
    return CaseResult(
        case_id=f"t.py::{name}",
        suite="t.py",
        name=name,
        outcome=outcome,
        properties=list(properties),
        **fields,  # type: ignore[arg-type]
    )


def _declared(path: Path, name: str | None = None, attempt: int | None = None) -> tuple[str, str]:
    data: dict[str, object] = {"path": str(path), "name": name or path.name, "content_type": None}
    if attempt is not None:
        data["attempt"] = attempt
    return FIXTURE_PROPERTY, json.dumps(data)


def test_files_are_copied_at_spool_time_and_survive_their_originals(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    shot.write_bytes(b"\x89PNG" + bytes(100))
    log = tmp_path / "app.log"
    log.write_text("started\n")
    run = RunReport(
        cases=[
            _case("test_a", Outcome.FAILED, _declared(shot), (ATTACHMENT_PROPERTY, str(log))),
        ]
    )
    entry = Outbox(tmp_path / "outbox").spool(run, _settings(tmp_path, attach="none"))
    shot.unlink()
    log.unlink()
    (case,) = entry.run().cases  # read back as a resend would
    assert [(a.name, a.content_type, a.size) for a in case.attachments] == [
        ("shot.png", "image/png", 104),
        ("app.log", "application/octet-stream", 8),
    ]
    stored = Path(case.attachments[0].path)
    assert stored.is_relative_to(entry.path) and stored.read_bytes().startswith(b"\x89PNG")
    assert case.attachments[0].sha256 == hashlib.sha256(b"\x89PNG" + bytes(100)).hexdigest()


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("none", []), ("output", ["t.py::test_bad"]), ("all", ["t.py::test_bad", "t.py::test_ok"])],
)
def test_the_output_attachment_follows_tm_attach(
    tmp_path: Path, mode: str, expected: list[str]
) -> None:
    run = RunReport(
        cases=[
            _case("test_bad", Outcome.FAILED, details="Traceback ...\nAssertionError", stdout="x"),
            _case("test_ok", Outcome.PASSED, stdout="hello"),
        ]
    )
    entry = Outbox(tmp_path / "outbox").spool(run, _settings(tmp_path, attach=mode))
    with_output = [
        case.case_id
        for case in entry.run().cases
        if [a.name for a in case.attachments] == ["output.txt"]
    ]
    assert with_output == expected
    if expected:
        text = Path(entry.run().cases[0].attachments[0].path).read_text()
        assert "--- failure ---\nTraceback ...\nAssertionError" in text
        assert "--- stdout ---\nx" in text


def test_what_is_missing_or_too_big_is_left_out_and_said(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(2_000))
    small = tmp_path / "small.txt"
    small.write_bytes(bytes(600))
    run = RunReport(
        cases=[
            _case(
                "test_a",
                Outcome.FAILED,
                _declared(tmp_path / "gone.png"),
                _declared(big),
                _declared(small),
                _declared(small, name="again.txt"),
            )
        ]
    )
    settings = _settings(
        tmp_path, attach="none", max_attachment="1000", max_attachments_total="1000"
    )
    entry = Outbox(tmp_path / "outbox").spool(run, settings)
    assert [a.name for a in entry.run().cases[0].attachments] == ["small.txt"]
    assert entry.notes == [
        f"t.py::test_a: attachment {tmp_path / 'gone.png'} is missing; left out",
        "t.py::test_a: attachment big.bin (2,000 bytes) is over --tm-max-attachment (1,000); "
        "left out",
        "t.py::test_a: attachment again.txt (600 bytes) would take the run over "
        "--tm-max-attachments-total (1,000); left out",
    ]


def test_an_earlier_attempts_file_is_named_as_such(tmp_path: Path) -> None:
    first = tmp_path / "first.png"
    first.write_bytes(b"1")
    last = tmp_path / "last.png"
    last.write_bytes(b"2")
    run = RunReport(
        cases=[_case("test_a", Outcome.PASSED, _declared(first, attempt=1), _declared(last))]
    )
    entry = Outbox(tmp_path / "outbox").spool(run, _settings(tmp_path, attach="none"))
    names = [(a.name, a.attempt) for a in entry.run().cases[0].attachments]
    assert names == [("attempt 1 - first.png", 1), ("last.png", None)]
