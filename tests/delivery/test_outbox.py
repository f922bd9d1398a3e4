"""The outbox: durable entries, a journal of finished steps, and a lock against double sending."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tmupload.delivery.outbox import Outbox, OutboxLocked
from tmupload.delivery.pipeline import resend
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve

RUN = RunReport(
    cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
)


def _settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    return resolve(
        {"url": "http://127.0.0.1:9/ET", "project": "P", "user": "u", "outbox": str(tmp_path)},
        {},
        {"TMUPLOAD_PASSWORD": "secret-pw"},
    )


def test_spool_writes_a_complete_entry_without_secrets(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    assert entry.run() == RUN
    assert entry.target == "et" and entry.frozen()["project"] == "P"
    assert "password" not in (entry.path / "settings.json").read_text()
    assert all(b"secret-pw" not in path.read_bytes() for path in entry.path.iterdir())
    assert [e.path for e in Outbox(tmp_path).entries()] == [entry.path]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_the_default_outbox_folder_keeps_itself_out_of_git(tmp_path: Path) -> None:
    Outbox(tmp_path / ".tmupload" / "outbox").spool(RUN, _settings(tmp_path))
    assert (tmp_path / ".tmupload" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_journal_survives_a_new_process_view(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    entry.journal.finish("uploaded", {"run_id": "r1"})
    again = Outbox(tmp_path).entries()[0]
    assert again.journal.done("uploaded") == {"run_id": "r1"}
    assert again.journal.done("mapped") is None


def test_a_second_sender_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    with entry.locked():
        with pytest.raises(OutboxLocked, match="being sent by another process"), entry.locked():
            pass
        # A resend meanwhile reports the entry as busy and sends nothing (no server is up).
        (outcome,) = resend(_settings(tmp_path))
        assert isinstance(outcome.error, OutboxLocked)
    with entry.locked():  # released afterwards
        pass


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    (entry.path / "lock").write_text("999999999")  # no such process
    with entry.locked():
        assert (entry.path / "lock").read_text() == str(os.getpid())


def test_a_journal_written_before_intents_existed_reads_as_it_was_meant(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    (entry.path / "steps.json").write_text(
        '{"placement": {"project_id": "p"}, "upload_started": {"before": []},'
        ' "links": {"t.py::t\\u0000PAY-1": {"status": "linked", "reason": ""}}}'
    )
    again = Outbox(tmp_path).entries()[0].journal
    assert again.done("placement") == {"project_id": "p"}
    assert again.done("upload_started") == {"before": []}  # ET reads it as its upload intent
    assert again.items("links") == {"t.py::t\x00PAY-1": {"status": "linked", "reason": ""}}


def test_link_progress_is_on_disk_as_each_item_finishes(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    entry.journal.item_done("links", "a", {"status": "linked"})
    # A second process (a resend after a crash) sees it without any "finish" call.
    assert Outbox(tmp_path).entries()[0].journal.items("links") == {"a": {"status": "linked"}}


def test_recording_a_step_rewrites_that_step_only(tmp_path: Path) -> None:
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    journal = entry.journal
    journal.finish("testcases", {str(n): n for n in range(30_000)})  # a big step
    (big,) = (entry.path / "steps").iterdir()
    written = big.stat().st_mtime_ns
    journal.declare("phase", {"name": "nightly"})
    journal.finish("phase", {"id": 7})
    assert big.stat().st_mtime_ns == written  # 30,000 ids are not written again
    again = Outbox(tmp_path).entries()[0].journal
    assert again.done("phase") == {"id": 7} and again.intent("phase") is None
    assert len(again.done("testcases") or {}) == 30_000


def test_a_big_step_is_written_in_slices_that_read_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step of a million cases must not become one JSON text (twice: str and bytes) in
    memory; what is written in slices is the same JSON and reads back the same."""
    import tmupload.delivery.journal as journal_module

    monkeypatch.setattr(journal_module, "_SLICE", 7)
    data = {
        "runs": {f'case {n} "q" \u00e9': str(n) for n in range(50)},
        "unmapped": [f"u{n}\n" for n in range(20)],
        "nested": {"deep": {"ids": list(range(30))}, "few": [1, 2]},
        "small": {"x": None, "y": True},
        "empty": {},
    }
    pieces = list(journal_module.json_pieces(data))
    assert "".join(pieces) == json.dumps(data, separators=(",", ":"))
    assert max(len(piece) for piece in pieces) < len(json.dumps(data["runs"])) // 4
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    entry.journal.finish("mapped", data)
    assert Outbox(tmp_path).entries()[0].journal.done("mapped") == data


def test_a_delivered_entry_leaves_the_outbox_at_once_and_its_files_after(tmp_path: Path) -> None:
    """The session end does not wait for a run's files to be deleted, but the entry is out of
    the outbox before upload() returns: it can never be sent again."""
    import threading

    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    entry.remove(in_background=True)
    assert Outbox(tmp_path).entries() == [] and not entry.path.exists()
    for thread in threading.enumerate():
        if thread.name == "tmupload-outbox-cleanup":
            thread.join(10)
    assert list(tmp_path.iterdir()) == []  # the files are gone too


def test_files_a_killed_process_left_being_deleted_are_swept_at_the_next_spool(
    tmp_path: Path,
) -> None:
    left = tmp_path / ".removed-20261130T120000000000Z-0a1b2c3d"
    (left / "attachments").mkdir(parents=True)
    (left / "run.json").write_text("{}")
    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))
    assert not left.exists()
    assert [e.path for e in Outbox(tmp_path).entries()] == [entry.path]


def test_an_entry_that_cannot_be_renamed_away_is_deleted_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tmupload.delivery.outbox as outbox_module

    entry = Outbox(tmp_path).spool(RUN, _settings(tmp_path))

    def refuse(source: object, target: object) -> None:
        raise PermissionError(13, "a file of it is open elsewhere")

    monkeypatch.setattr(outbox_module.os, "replace", refuse)
    entry.remove(in_background=True)
    assert list(tmp_path.iterdir()) == []  # deleted here, not left behind
