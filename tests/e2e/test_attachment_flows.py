"""Attachments as users make them: a rerun test's files, a Surefire-style report with
``[[ATTACHMENT|…]]`` lines, and the files showing on the server's page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live import Live, leaves, upload_args
from tmupload.cli.app import main

RERUN = """
import os, pathlib

def test_flaky_page(tm_attach):
    marker = pathlib.Path(os.environ["FLAKY_MARKER"])
    first = not marker.exists()
    marker.write_text("seen")
    tm_attach(b"first try" if first else b"second try", name="page.html")
    assert not first, "the first attempt fails"
"""

REPORT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="ui.LoginPageTest" tests="2" failures="1">
  <testcase classname="ui.LoginPageTest" name="showsLoginForm"/>
  <testcase classname="ui.LoginPageTest" name="rejectsWrongPassword">
    <failure message="error banner missing">NoSuchElementException: .error-banner</failure>
    <system-err>[[ATTACHMENT|screenshots/wrong-password.png]]
[[ATTACHMENT|screenshots/not-there.png]]
</system-err>
  </testcase>
</testsuite>
"""


def _files(live: Live) -> dict[str, list[str]]:
    return {
        name: sorted(a["Name"] for a in node["Attachments"])
        for (_, name), node in leaves(live.only_run()).items()
        if node["Attachments"]
    }


def test_a_rerun_test_sends_its_final_files_and_names_the_earlier_ones(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLAKY_MARKER", str(tmp_path / "marker"))
    pytester.makepyfile(test_rerun=RERUN)
    manifest = tmp_path / "m.json"
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--reruns=1", f"--tm-manifest={manifest}")
    )
    assert result.ret == 0
    assert _files(live) == {"test_flaky_page": ["attempt 1 - page.html", "page.html"]}
    (case,) = json.loads(manifest.read_text())["cases"]
    assert [(a["name"], a["status"]) for a in case["attachments"]] == [
        ("attempt 1 - page.html", "sent"),
        ("page.html", "sent"),
    ]
    result.stdout.fnmatch_lines(["*tmupload: attachments: 2 sent (19 bytes)*"])


def test_import_sends_the_files_a_report_points_to(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    (reports / "screenshots").mkdir(parents=True)
    (reports / "screenshots" / "wrong-password.png").write_bytes(b"\x89PNG shot")
    (reports / "TEST-ui.xml").write_text(REPORT)
    monkeypatch.chdir(tmp_path)  # paths in the report are relative to the report, not here
    code = main(
        ["import", str(reports / "TEST-ui.xml"), "--url", live.url, "--project", "Demo",
         "--outbox", str(tmp_path / "outbox")]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert _files(live) == {"rejectsWrongPassword": ["output.txt", "wrong-password.png"]}
    assert "screenshots/not-there.png is missing; left out" in out
