"""``tmupload import`` end to end against the emulator on a loopback socket."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from junit_samples import DATA, import_args

from live import Live, leaves
from tmupload.cli.app import main
from tmupload.cli.import_cmd import ImportProgress, expand_inputs
from tmupload.junit.read import ReadProgress
from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread

SUREFIRE = DATA / "surefire" / "nested-flaky-tickets.xml"
JEST = DATA / "jest" / "jest-junit.xml"


def test_surefire_and_jest_land_in_one_run_with_their_tickets_linked(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "manifest.json"
    args = import_args(live, tmp_path, SUREFIRE, JEST)
    code = main([*args, "--run-name", "shards 1+2", "--manifest", str(manifest)])
    out, err = capsys.readouterr()
    assert code == 0, err
    run = live.only_run()
    totals = run["Totals"]
    # Surefire: 3 passed (one flaky), 2 failed, 1 error, 1 skipped; jest: 4 / 2 / 0 / 1.
    assert (totals["Passed"], totals["Failed"], totals["Errors"], totals["Skipped"]) == (7, 4, 1, 2)
    assert totals["TotalResults"] == 14
    assert run["StartedAt"].startswith("2026-11-20T09:15:00")
    nodes = leaves(run)
    assert (
        nodes[("payments-service / com.example.payments.CheckoutIT", "appliesCoupon")]["Status"]
        == "Failed"
    )
    assert nodes[("Cart", "Cart applies a discount")]["Status"] == "Failed"
    linked = {
        (link["NodeName"], link["TicketKey"]) for link in live.emulator.snapshot()["node_links"]
    }
    # PAY-17 (failed) and PAY-18 (error) link; OPS-404 is unknown; DEMO-1 is on a passing test.
    assert linked == {("appliesCoupon", "PAY-17"), ("readsPrices", "PAY-18")}
    assert "ticket links: 2 linked, 1 unknown ticket" in out
    assert "unknown ticket OPS-404 for payments-service" in out
    assert f"tmupload: parsed {SUREFIRE} [1/2] (7 cases)" in err
    assert f"tmupload: parsed {JEST} [2/2] (7 cases)" in err
    assert "tmupload: uploading 14 results" in err
    assert "tmupload: linking 3 ticket(s)" in err
    data = json.loads(manifest.read_text(encoding="utf-8"))
    assert data["status"] == "uploaded"
    flaky = next(case for case in data["cases"] if case["case_id"].endswith("::retriesGateway"))
    assert flaky["attempts"] == 3
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())


def test_quoted_globs_are_expanded_and_shards_merge(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for shard in ("shard-1.xml", "shard-2.xml"):
        target = tmp_path / "reports" / shard.removesuffix(".xml") / "junit.xml"
        target.parent.mkdir(parents=True)
        shutil.copy(DATA / "shards" / shard, target)
    assert main(import_args(live, tmp_path, str(tmp_path / "reports" / "**" / "*.xml"))) == 0
    err = capsys.readouterr().err
    assert "test id(s) appear more than once" in err
    first = tmp_path / "reports" / "shard-1" / "junit.xml"
    second = tmp_path / "reports" / "shard-2" / "junit.xml"
    assert f"  checkout::checkout.CartTest::emptiesCart ({first}, {second})" in err
    run = live.only_run()
    assert run["Totals"]["TotalResults"] == 6  # the duplicate is kept, not dropped
    names = {name for _suite, name in leaves(run)}
    assert {"checkout.CartTest::emptiesCart", "checkout.CartTest::emptiesCart #2"} <= names


def test_a_pattern_that_matches_nothing(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(import_args(live, tmp_path, str(tmp_path / "*.xml"))) == 2
    assert "no file matches this pattern" in capsys.readouterr().err
    assert live.emulator.requests == []


def test_expand_inputs_keeps_order_and_drops_repeats(tmp_path: Path) -> None:
    for name in ("b.xml", "a.xml", "[literal].xml"):
        (tmp_path / name).write_text("<testsuite/>", encoding="utf-8")
    paths = expand_inputs(
        [str(tmp_path / "b.xml"), str(tmp_path / "*.xml"), str(tmp_path / "[literal].xml")]
    )
    assert [path.name for path in paths] == ["b.xml", "[literal].xml", "a.xml"]


def test_dry_run_creates_nothing(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*import_args(live, tmp_path, SUREFIRE), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing was created or sent" in out
    assert "would upload 7 results" in out
    assert live.runs() == []
    assert {method for method, _path, _status in live.emulator.requests} == {"GET"}


def test_an_unreachable_server_keeps_the_run_in_the_outbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with serve_in_thread(Emulator(EmulatorConfig())) as server:
        url = server.url  # a loopback port that is closed once the block ends
    monkeypatch.setenv("TMUPLOAD_USER", "admin")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "admin")
    monkeypatch.chdir(tmp_path)
    outbox = tmp_path / "outbox"
    code = main(["import", str(JEST), "--url", url, "--project", "Demo", "--outbox", str(outbox)])
    assert code == 1
    out = capsys.readouterr().out
    assert "upload FAILED" in out
    assert f"tmupload resend --outbox {outbox}" in out
    assert len(list(outbox.iterdir())) == 1


def test_missing_settings_stop_before_any_file_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TMUPLOAD_URL", "TMUPLOAD_PROJECT"):
        monkeypatch.delenv(name, raising=False)
    assert main(["import", str(tmp_path / "not-even-there.xml")]) == 2
    err = capsys.readouterr().err
    assert "upload needs --url" in err and "--tm-url" not in err  # the command's own flags
    assert "not-even-there" not in err


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def event(cases: int, done_bytes: int, *, done: bool = False) -> ReadProgress:
    return ReadProgress(Path("big.xml"), 1, 2, cases, done_bytes, 50_000_000, done)


def test_progress_on_a_terminal_is_one_updating_line() -> None:
    screen = FakeTerminal()
    now = [0.0]
    progress = ImportProgress(screen, clock=lambda: now[0])
    assert progress.live
    progress.read(event(0, 0))
    progress.read(event(2000, 10_000_000))  # too soon after the last redraw: skipped
    now[0] = 1.0
    progress.read(event(4000, 25_000_000))
    progress.read(event(6000, 50_000_000, done=True))
    progress.say("uploading 6,000 results")
    assert screen.getvalue() == (
        "\r\x1b[Ktmupload: reading big.xml [1/2] 0% (0 cases)"
        "\r\x1b[Ktmupload: reading big.xml [1/2] 50% (4,000 cases)"
        "\r\x1b[Ktmupload: parsed big.xml [1/2] (6,000 cases)\n"
        "tmupload: uploading 6,000 results\n"
    )


def test_progress_in_a_log_is_plain_lines() -> None:
    log = io.StringIO()
    progress = ImportProgress(log)
    assert not progress.live
    progress.read(event(0, 0))
    progress.read(event(4000, 25_000_000))
    progress.read(event(1, 50_000_000, done=True))
    assert log.getvalue() == "tmupload: parsed big.xml [1/2] (1 case)\n"


def test_small_files_get_no_updating_line() -> None:
    screen = FakeTerminal()
    progress = ImportProgress(screen)
    progress.read(ReadProgress(Path("small.xml"), 1, 1, 10, 100, 1000))
    assert screen.getvalue() == ""
