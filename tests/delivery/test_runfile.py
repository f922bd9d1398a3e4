"""The outbox's run files: run.json (the run without its cases) + cases.jsonl (the cases, a
JSON array of up to 1,000 a line).

An entry written before (run.json holding the whole run) must still be read; a new entry
round-trips exactly; a damaged or half-written one is never sent as something it is not.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from tmupload.delivery.outbox import Outbox
from tmupload.delivery.runfile import (
    CASES_FILE,
    RUN_FILE,
    RunFileError,
    append_case,
    case_count,
    read_cases_line,
    read_run,
    write_run,
)
from tmupload.models import Attachment, Attempt, CaseResult, Outcome, RunReport, TicketRef
from tmupload.settings import Settings, resolve


def _settings(tmp_path: Path) -> Settings:
    return resolve(
        {"url": "http://127.0.0.1:9/ET", "project": "P", "user": "u", "attach": "none"},
        {},
        {"TMUPLOAD_PASSWORD": "pw"},
    )


def _run(count: int = 3) -> RunReport:
    cases = [
        CaseResult(
            case_id=f"suite{n % 2}::Class::test_{n}",
            suite=f"suite{n % 2}",
            name=f"Class::test_{n}",
            classname="Class",
            outcome=list(Outcome)[n % len(Outcome)],
            duration=n / 7,
            message=f"line one {n}\nline two é 中文 \u2028",
            details="Traceback:\n  \x00\x1b[31m boom\r\n",
            stdout="out\n" * 3,
            failed_phase="teardown" if n % 3 == 0 else None,
            attempts=[Attempt(outcome=Outcome.FAILED, message="flaky", duration=0.5)],
            tickets=[TicketRef(key="PAY-17"), TicketRef(key="PAY-18", external_system_link="J")],
            properties=[("ticket_link", "x"), ("k", "v\n")],
        )
        for n in range(count)
    ]
    return RunReport(
        name="import of 1 file",
        started_at=datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc),
        finished_at=datetime(2026, 11, 30, 12, 5, 30, 250000, tzinfo=timezone.utc),
        environment={"CI": "true", "python": "3.11"},
        cases=cases,
    )


def test_a_new_entry_round_trips_a_line_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmupload.delivery.runfile as runfile

    monkeypatch.setattr(runfile, "_PER_LINE", 10)
    run = _run(25)
    entry = Outbox(tmp_path).spool(run, _settings(tmp_path))
    lines = (entry.path / CASES_FILE).read_bytes().split(b"\n")
    assert lines[-1] == b"" and [len(json.loads(line)) for line in lines[:-1]] == [10, 10, 5]
    header = json.loads((entry.path / RUN_FILE).read_text(encoding="utf-8"))
    assert header["cases"] == {"file": CASES_FILE, "count": 25}
    again = entry.run()
    assert again == run
    assert again.cases[4].properties == [("ticket_link", "x"), ("k", "v\n")]
    assert entry.case_count() == 25
    assert Outbox(tmp_path).entries()[0].run() == run


def test_an_empty_run_round_trips(tmp_path: Path) -> None:
    run = _run(0)
    write_run(run, tmp_path)
    assert (tmp_path / CASES_FILE).read_bytes() == b""
    assert read_run(tmp_path) == run
    assert case_count(tmp_path) == 0


def test_attachments_come_back_with_paths_in_the_entry(tmp_path: Path) -> None:
    run = _run(1)
    run.cases[0].attachments = [
        Attachment(name="a.txt", path="attachments/0-1-a.txt", size=3, sha256="ab", attempt=1)
    ]
    write_run(run, tmp_path)
    (case,) = read_run(tmp_path).cases
    assert case.attachments == run.cases[0].attachments  # stored relative to the entry


def test_an_entry_written_by_the_earlier_format_is_still_read(tmp_path: Path) -> None:
    """Format 1: the whole run in run.json, as ``TypeAdapter(RunReport).dump_json`` wrote it."""
    run = _run(4)
    folder = tmp_path / "20261130T120000000000Z-0a1b2c3d"
    folder.mkdir()
    (folder / RUN_FILE).write_bytes(TypeAdapter(RunReport).dump_json(run))
    (folder / "settings.json").write_text('{"schema": 2, "target": "et", "frozen": {}}')
    (entry,) = Outbox(tmp_path).entries()
    assert entry.run() == run
    assert entry.case_count() == 4


def test_a_new_entry_is_refused_by_a_reader_of_the_earlier_format(tmp_path: Path) -> None:
    """An earlier version resending a new entry must fail, never send an empty run."""
    write_run(_run(2), tmp_path)
    with pytest.raises(ValidationError):
        TypeAdapter(RunReport).validate_json((tmp_path / RUN_FILE).read_bytes())


def test_a_half_written_entry_is_never_picked_up(tmp_path: Path) -> None:
    staging = tmp_path / ".incoming-abc123"  # what a crash in the middle of spooling leaves
    staging.mkdir()
    write_run(_run(3), staging)
    with (staging / CASES_FILE).open("r+b") as handle:
        handle.truncate(40)
    assert Outbox(tmp_path).entries() == []


def test_a_failure_while_spooling_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmupload.delivery.runfile as runfile

    written: list[int] = []

    class Breaks:
        def dump_json(self, cases: list[CaseResult], **options: object) -> bytes:
            if len(written) == 2:
                raise OSError(28, "No space left on device")
            written.append(1)
            return b"[]"

    monkeypatch.setattr(runfile, "_PER_LINE", 1)
    monkeypatch.setattr(runfile, "_cases_adapter", lambda: Breaks())
    with pytest.raises(OSError, match="No space left"):
        Outbox(tmp_path).spool(_run(5), _settings(tmp_path))
    assert list(tmp_path.iterdir()) == []  # no entry, no staging directory


def test_a_cases_file_cut_short_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tmupload.delivery.runfile as runfile

    monkeypatch.setattr(runfile, "_PER_LINE", 1)
    write_run(_run(3), tmp_path)
    data = (tmp_path / CASES_FILE).read_bytes()
    (tmp_path / CASES_FILE).write_bytes(data[:-10])  # the last line lost its end
    with pytest.raises(RunFileError, match="line 3 is cut short"):
        read_run(tmp_path)


def test_a_cases_file_missing_lines_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmupload.delivery.runfile as runfile

    monkeypatch.setattr(runfile, "_PER_LINE", 1)
    write_run(_run(3), tmp_path)
    lines = (tmp_path / CASES_FILE).read_bytes().splitlines(keepends=True)
    (tmp_path / CASES_FILE).write_bytes(b"".join(lines[:2]))  # a whole line lost
    with pytest.raises(RunFileError, match=r"2 cases where run\.json says 3"):
        read_run(tmp_path)


def test_a_case_that_is_not_a_case_is_refused(tmp_path: Path) -> None:
    write_run(_run(2), tmp_path)
    with (tmp_path / CASES_FILE).open("ab") as handle:
        handle.write(b'[{"case_id": "x"}]\n')
    with pytest.raises(ValidationError):
        read_run(tmp_path)


def test_the_cases_file_must_lie_in_the_entry(tmp_path: Path) -> None:
    write_run(_run(1), tmp_path)
    header = json.loads((tmp_path / RUN_FILE).read_text(encoding="utf-8"))
    header["cases"]["file"] = "../elsewhere.jsonl"
    (tmp_path / RUN_FILE).write_text(json.dumps(header), encoding="utf-8")
    with pytest.raises(RunFileError, match="not in the entry"):
        read_run(tmp_path)


def test_a_line_of_the_default_size_round_trips(tmp_path: Path) -> None:
    run = _run(2500)
    write_run(run, tmp_path)
    assert len((tmp_path / CASES_FILE).read_bytes().splitlines()) == 3
    assert read_run(tmp_path) == run


def test_empty_fields_are_left_out_and_read_back_as_one_shared_empty_value(
    tmp_path: Path,
) -> None:
    """A million imported cases, most without tickets, attempts or files: neither the cases
    file nor the memory of the run read back pays for those empty fields case by case."""
    run = RunReport(
        cases=[
            CaseResult(case_id=f"t.py::t{n}", suite="t.py", name=f"t{n}", outcome=Outcome.PASSED)
            for n in range(3)
        ]
    )
    write_run(run, tmp_path)
    text = (tmp_path / CASES_FILE).read_text(encoding="utf-8")
    assert not any(field in text for field in ("attempts", "tickets", "properties", "stdout"))
    again = read_run(tmp_path)
    assert again == run
    shared = {id(value) for case in again.cases for value in (case.tickets, case.attachments)}
    assert len(shared) == 1


def test_a_case_written_as_its_test_ends_reads_back_as_the_adapter_would_write_it(
    tmp_path: Path,
) -> None:
    """The pytest process writes each case with the json module (runfile.append_case), not
    pydantic's serializer: what it writes must say exactly what the serializer says, odd
    characters, nested records and fields left at their defaults included."""
    cases = [
        *_run(7).cases,
        CaseResult(case_id="t.py::bare", suite="t.py", name="bare", outcome=Outcome.SKIPPED),
        CaseResult(
            case_id="t.py::files",
            suite="t.py",
            name="files",
            outcome=Outcome.FAILED,
            duration=1e-7,
            attachments=[Attachment(name="a.png", path="/x/a.png", size=3, attempt=1)],
        ),
    ]
    adapter = TypeAdapter(CaseResult)
    path = tmp_path / "cases.jsonl"
    with open(path, "wb") as handle:
        for case in cases:
            append_case(handle, case)
    lines = path.read_bytes().splitlines()
    assert len(lines) == len(cases)
    for case, line in zip(cases, lines, strict=True):
        expected = adapter.dump_json(case, exclude_defaults=True)
        assert json.loads(line) == [json.loads(expected)]
        assert read_cases_line(line) == [case]
