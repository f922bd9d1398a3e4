"""Where the run goes is looked up while the tests run (by the courier), never in a test's
way: the tests do not wait for the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from live import Live, upload_args

PEEK = """
import json, os, urllib.request

def test_sees_the_lookups_done(tmp_path_factory):
    seen = urllib.request.urlopen(os.environ["EMULATOR_REQUESTS"]).read()
    open(os.environ["SEEN_FILE"], "wb").write(seen)
"""

MOCKED = """
import httpx

def test_with_mocked_http(httpx_mock):
    httpx_mock.add_response(url="http://service.test/ping", text="pong")
    assert httpx.get("http://service.test/ping").text == "pong"
"""


def _placement_lookups(calls: list[list[object]]) -> list[str]:
    return [str(path) for method, path, _ in calls if method == "GET" and "/api/" in str(path)]


def test_the_tests_start_at_once_against_a_slow_server_and_the_lookups_are_done_once(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_first=PEEK)
    pytester.runpytest_subprocess(*upload_args(live, tmp_path))  # creates the placement
    live.emulator.requests.clear()
    live.emulator.config.latency = 1.0  # every answer a second late
    seen = tmp_path / "seen.json"
    monkeypatch.setenv("EMULATOR_REQUESTS", live.url + "/_emulator/requests")
    monkeypatch.setenv("SEEN_FILE", str(seen))
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    result.assert_outcomes(passed=1)
    # The test ran while the lookups were still under way (they take a few answers): nothing
    # waited for the server before it.
    during = _placement_lookups(json.loads(seen.read_text()))
    assert not any("automatedtestassignments" in path for path in during), during
    # The lookups overlapped the tests; the delivery did not look the placement up again.
    after = [path for method, path, _ in live.emulator.requests if method == "GET"]
    assert after.count("/EnterpriseTester/api/projects") == 1
    assert len(live.runs()) == 2


def test_a_test_that_mocks_httpx_sees_none_of_our_requests(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(test_mocked=MOCKED)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    result.assert_outcomes(passed=1)
    assert result.ret == 0
    assert len(live.runs()) == 1
