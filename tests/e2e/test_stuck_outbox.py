"""Outbox entries that could never leave: explicit settings override what was spooled, a
cached object that is gone is found again, ``tmupload outbox`` lists and drops entries, and
the outbox belongs to the project wherever pytest or the command is started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract.servers import Server, upload_args
from live import PASSWORD, USER, Live
from tmupload.cli.app import main
from tmupload.delivery.outbox import Outbox
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve

SUITE = "def test_ok():\n    pass\n\ndef test_also_ok():\n    pass\n"
RUN = RunReport(
    cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
)


def _spool_against(pytester: pytest.Pytester, url: str, project: str, outbox: Path) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest_subprocess(
        "--tm-upload", f"--tm-url={url}", f"--tm-project={project}", f"--tm-outbox={outbox}",
        "--tm-deadline=3", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 1
    assert len(Outbox(outbox).entries()) == 1


def test_a_misspelt_project_is_fixed_by_giving_it_to_resend(
    pytester: pytest.Pytester,
    server: Server,
    outbox: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytester.makepyfile(test_a=SUITE)
    args = upload_args(server, outbox, "--tm-deadline=3")
    args[args.index("--tm-project") + 1] = "Dmeo"
    assert pytester.runpytest_subprocess(*args).ret == 1
    assert len(Outbox(outbox).entries()) == 1 and server.writes() == []
    assert main(["resend", "--outbox", str(outbox)]) == 1  # the stored placement still fails
    assert main(["resend", "--outbox", str(outbox), "--project", "Demo"]) == 0
    assert "--project given now differs from the spooled setting;" in capsys.readouterr().err
    assert server.uploads() == 1 and Outbox(outbox).entries() == []
    assert set(server.landed()) == {"test_a.py::test_ok", "test_a.py::test_also_ok"}


def test_two_settings_given_to_resend_are_named_in_the_plural(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
    outbox = tmp_path / "outbox"
    wrong = resolve(
        {"url": live.url.rsplit("/", 1)[0], "project": "Dmeo", "outbox": str(outbox)}, {}, {}
    )
    Outbox(outbox).spool(RUN, wrong)
    argv = ["resend", "--outbox", str(outbox), "--url", live.url, "--project", "Demo"]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "--url and --project given now differ from the spooled settings;" in err


def test_a_url_without_the_application_path_is_fixed_by_giving_it_to_resend(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "outbox"
    wrong = live.url.rsplit("/", 1)[0]  # the host without /EnterpriseTester
    _spool_against(pytester, wrong, "Demo", outbox)
    monkeypatch.setenv("TMUPLOAD_URL", live.url)  # the environment counts as explicit too
    assert main(["resend", "--outbox", str(outbox)]) == 0
    assert len(live.runs()) == 1


def test_a_server_that_lost_the_cached_ids_gets_them_resolved_again(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
    outbox = tmp_path / "outbox"
    settings = resolve({"url": live.url, "project": "Demo", "outbox": str(outbox)}, {})
    entry = Outbox(outbox).spool(RUN, settings)
    # An earlier attempt resolved ids that the server no longer has (it lost its data).
    gone = "0f0f0f0f-0000-0000-0000-000000000000"
    entry.journal.finish("placement", {"project_id": gone, "assignment_id": gone})
    assert main(["resend", "--outbox", str(outbox)]) == 0
    assert len(live.runs()) == 1 and Outbox(outbox).entries() == []


def test_the_outbox_command_lists_and_drops_entries(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outbox = tmp_path / "outbox"
    _spool_against(pytester, live.url, "Nope", outbox)
    assert main(["outbox", "--outbox", str(outbox)]) == 0
    out = capsys.readouterr().out
    (entry,) = Outbox(outbox).entries()
    assert entry.name in out and "target et:" in out and "project 'Nope'" in out
    assert "2 results" in out and "last error:" in out and "no project named 'Nope'" in out
    assert main(["outbox", "drop", "no-such-entry", "--outbox", str(outbox)]) == 2
    assert main(["outbox", "drop", entry.name[:12], "--outbox", str(outbox)]) == 0
    assert "dropped" in capsys.readouterr().out and Outbox(outbox).entries() == []
    assert main(["outbox", "--outbox", str(outbox)]) == 0
    assert "is empty" in capsys.readouterr().out


def test_the_outbox_is_the_projects_wherever_pytest_and_resend_start(
    pytester: pytest.Pytester, live: Live
) -> None:
    pytester.makeini("[pytest]\n")
    sub = pytester.mkpydir("sub")
    (sub / "test_a.py").write_text(SUITE)
    env = dict(os.environ, TMUPLOAD_USER=USER, TMUPLOAD_PASSWORD="wrong")
    env.pop("TMUPLOAD_OUTBOX", None)
    session = subprocess.run(
        [sys.executable, "-m", "pytest", "--tm-upload", f"--tm-url={live.url}",
         "--tm-project=Demo", "-p", "no:cacheprovider", "test_a.py"],
        cwd=sub, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert session.returncode == 1, session.stdout
    root_outbox = pytester.path / ".tmupload" / "outbox"
    assert len(Outbox(root_outbox).entries()) == 1  # at the project's root, not in sub/
    assert f"the results are kept in {root_outbox}" in session.stdout  # an absolute path
    assert (pytester.path / ".tmupload" / ".gitignore").is_file()
    env["TMUPLOAD_PASSWORD"] = PASSWORD
    resent = subprocess.run(
        [sys.executable, "-m", "tmupload", "resend"],
        cwd=sub, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert len(live.runs()) == 1 and Outbox(root_outbox).entries() == []


def test_an_entry_written_before_the_targets_existed_still_resends(
    live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 1: every setting flat in settings.json (always ET), a flat steps.json whose
    "upload_started" was the upload's intent and whose "links" held the link progress."""
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
    entry = tmp_path / "outbox" / "20261130T120000000000Z-0a1b2c3d"
    entry.mkdir(parents=True)
    # What pydantic's model_dump_json wrote for a RunReport then (the format has not changed).
    run = {
        "name": "pytest run",
        "started_at": "2026-11-30T12:00:00Z",
        "finished_at": "2026-11-30T12:00:01Z",
        "environment": {},
        "cases": [
            {"case_id": "t.py::test_ok", "suite": "t.py", "name": "test_ok", "outcome": "passed"},
            {
                "case_id": "t.py::test_bad",
                "suite": "t.py",
                "name": "test_bad",
                "outcome": "failed",
                "tickets": [{"key": "PAY-17", "external_system_link": None}],
            },
        ],
    }
    (entry / "run.json").write_text(json.dumps(run))
    old_settings = {  # what safe_dump() wrote then: no "schema", no "target"
        "upload": True, "url": live.url, "user": "admin", "password_file": None,
        "project": "Demo", "script_package": "Old/Scripts", "automated_test": "old suite",
        "execution_package": "Old/Runs", "run_name": None, "dry_run": False, "manifest": None,
        "outbox": str(tmp_path / "outbox"), "on_error": "fail", "no_link": False,
        "link_on": ["failed", "error"], "link_concurrency": 8, "link_failures": None,
        "ticket_map": None, "xfail_as": "skipped", "max_output": 65536, "ca_bundle": None,
        "client_cert": None, "proxy": None, "allow_insecure_http": False, "timeout": 30.0,
        "deadline": 600.0,
    }  # fmt: skip
    (entry / "settings.json").write_text(json.dumps(old_settings))
    assert main(["resend", "--outbox", str(tmp_path / "outbox")]) == 0
    snapshot = live.emulator.snapshot()
    assert [t["Name"] for t in snapshot["automated_tests"]] == ["old suite"]  # as spooled
    assert {p["Path"] for p in snapshot["execution_packages"]} >= {"Old|Runs"}
    assert len(live.runs()) == 1
    assert [link["TicketKey"] for link in snapshot["node_links"]] == ["PAY-17"]
    assert Outbox(tmp_path / "outbox").entries() == []
