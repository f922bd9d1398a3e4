"""An import without a single testcase is refused (exit 2) unless ``--allow-empty``.

Sent as it was, it showed on the server as a run with status Passed: the usual cause is a test
step that collected nothing, or a report path that points at the wrong file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from junit_samples import DATA, import_args

from live import Live
from tmupload.cli.app import main

GOOD = DATA / "shards" / "shard-1.xml"  # 3 testcases
# What pytest writes when it collects no test (``pytest --junitxml=report.xml`` in an empty dir).
NO_TESTS = (
    '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite '
    'name="pytest" errors="0" failures="0" skipped="0" tests="0" time="0.010" '
    'timestamp="2026-11-23T07:32:22.499023+00:00" hostname="vm" /></testsuites>'
)


def empty_report(tmp_path: Path, name: str = "report.xml") -> Path:
    path = tmp_path / name
    path.write_text(NO_TESTS, encoding="utf-8")
    return path


def assert_nothing_sent(live: Live, tmp_path: Path) -> None:
    assert live.emulator.requests == []
    assert live.runs() == []
    assert not (tmp_path / "outbox").exists()


def test_a_file_without_testcases_is_refused(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = empty_report(tmp_path)
    assert main(import_args(live, tmp_path, empty)) == 2
    err = capsys.readouterr().err
    assert f"tmupload: error: {empty}: the file holds no testcase\nnothing was sent: " in err
    assert "check that the tests ran and that this is the report they wrote" in err
    assert "or pass --allow-empty to send an empty run" in err
    assert_nothing_sent(live, tmp_path)


def test_a_dry_run_refuses_it_too(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = empty_report(tmp_path)
    assert main([*import_args(live, tmp_path, empty), "--dry-run"]) == 2
    assert "the file holds no testcase" in capsys.readouterr().err
    assert_nothing_sent(live, tmp_path)


def test_several_files_without_testcases_are_each_named(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = empty_report(tmp_path, "shard-1.xml")
    second = tmp_path / "shard-2.xml"
    second.write_text('<testsuite name="checkout" tests="0"/>\n', encoding="utf-8")
    assert main(import_args(live, tmp_path, first, second)) == 2
    err = capsys.readouterr().err
    assert (
        f"tmupload: error: none of the 2 files holds a testcase:\n  {first}\n  {second}\n"
        "nothing was sent: check that the tests ran and that these are the reports they wrote"
    ) in err
    assert "--allow-empty" in err
    assert_nothing_sent(live, tmp_path)


def test_a_long_list_of_empty_files_is_cut(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shards = [empty_report(tmp_path, f"shard-{n:02d}.xml") for n in range(1, 14)]
    assert main(import_args(live, tmp_path, *shards)) == 2
    err = capsys.readouterr().err
    assert "none of the 13 files holds a testcase:" in err
    assert f"  {shards[9]}\n  ... and 3 more\nnothing was sent" in err
    assert f"  {shards[10]}" not in err
    assert_nothing_sent(live, tmp_path)


def test_allow_empty_sends_the_empty_run(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = empty_report(tmp_path)
    assert main([*import_args(live, tmp_path, empty), "--allow-empty"]) == 0
    err = capsys.readouterr().err
    assert "tmupload: no testcase in the input: sending an empty run (--allow-empty)" in err
    assert live.only_run()["Totals"]["TotalResults"] == 0


def test_an_empty_file_among_others_is_a_warning(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = empty_report(tmp_path, "shard-2.xml")
    assert main(import_args(live, tmp_path, GOOD, empty)) == 0
    err = capsys.readouterr().err
    assert (
        f"tmupload: warning: no testcase in {empty}; the run has the 3 results of the other 1 file"
    ) in err
    assert live.only_run()["Totals"]["TotalResults"] == 3


def test_skip_invalid_leaving_only_empty_files_is_refused(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncated = tmp_path / "truncated.xml"
    truncated.write_bytes(b'<testsuite name="s">\n<testcase name="a"')
    empty = empty_report(tmp_path)
    assert main([*import_args(live, tmp_path, truncated, empty), "--skip-invalid"]) == 2
    err = capsys.readouterr().err
    assert f"warning: skipping an invalid file: {truncated}: " in err
    assert f"tmupload: error: {empty}: the file holds no testcase" in err
    assert_nothing_sent(live, tmp_path)
