"""Ticket links from markers, map files and --tm-link-failures, as ET records them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from live import Live, upload_args
from tmupload.targets.et.emulator import TrackerLink

MARKED = """
import pytest

pytestmark = pytest.mark.ticket("DEMO-1")

def test_module_marker():
    assert False

@pytest.mark.ticket("PAY-17", "PAY-18")
def test_function_marker():
    assert False

@pytest.fixture
def broken():
    raise RuntimeError("down")

@pytest.mark.ticket("PAY-19")
def test_setup_error(broken):
    pass

@pytest.mark.ticket("DEMO-2")
class TestClassMarker:
    def test_fails(self):
        assert False

    def test_passes(self):
        pass

@pytest.mark.ticket("DEMO-3")
def test_skipped_not_linked_by_default():
    pytest.skip("later")
"""


def _links(live: Live) -> set[tuple[str, str]]:
    return {
        (link["NodeName"], link["TicketKey"]) for link in live.emulator.snapshot()["node_links"]
    }


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_markers_on_function_class_and_module_are_linked(
    pytester: pytest.Pytester, live: Live, tmp_path: Path, workers: list[str]
) -> None:
    pytester.makepyfile(test_marked=MARKED)
    manifest = tmp_path / "m.json"
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-manifest", str(manifest)), *workers
    )
    assert _links(live) == {
        ("test_module_marker", "DEMO-1"),
        ("test_function_marker", "PAY-17"),
        ("test_function_marker", "PAY-18"),
        ("test_function_marker", "DEMO-1"),
        ("test_setup_error", "PAY-19"),
        ("test_setup_error", "DEMO-1"),
        ("TestClassMarker::test_fails", "DEMO-2"),
        ("TestClassMarker::test_fails", "DEMO-1"),
    }
    result.stdout.fnmatch_lines(["*tmupload: ticket links: 8 linked*"])
    data = json.loads(manifest.read_text())
    assert {(link["key"], link["status"]) for link in data["links"]} >= {("PAY-17", "linked")}
    assert all(link["status"] == "linked" for link in data["links"])
    assert len(data["links"]) == 8


def test_link_on_includes_skipped_when_asked(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(test_marked=MARKED)
    pytester.runpytest_subprocess(*upload_args(live, tmp_path, "--tm-link-on", "skipped"))
    assert _links(live) == {
        ("test_skipped_not_linked_by_default", "DEMO-3"),
        ("test_skipped_not_linked_by_default", "DEMO-1"),
    }


def test_unknown_key_is_reported_and_the_rest_still_link(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    pytester.makepyfile(
        test_x="""
        import pytest
        @pytest.mark.ticket("NOPE-404", "PAY-17")
        def test_a():
            assert False
        """
    )
    manifest = tmp_path / "m.json"
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, "--tm-manifest", str(manifest))
    )
    assert _links(live) == {("test_a", "PAY-17")}
    result.stdout.fnmatch_lines(
        [
            "*ticket links: 1 linked, 1 unknown ticket*",
            "*unknown ticket NOPE-404 for test_x.py::test_a*",
        ]
    )
    statuses = {link["key"]: link["status"] for link in json.loads(manifest.read_text())["links"]}
    assert statuses == {"NOPE-404": "unknown_ticket", "PAY-17": "linked"}
    assert result.ret == 1  # the test failed; the upload itself succeeded
    assert not list((tmp_path / "outbox").glob("2*"))


def test_ticket_map_and_build_ticket(pytester: pytest.Pytester, live: Live, tmp_path: Path) -> None:
    pytester.makepyfile(
        test_legacy="""
        def test_old_api():
            assert False
        def test_other():
            assert False
        def test_fine():
            pass
        """
    )
    ticket_map = tmp_path / "tickets.toml"
    ticket_map.write_text('[tickets]\n"test_legacy.py::test_old*" = ["PAY-18"]\n')
    pytester.runpytest_subprocess(
        *upload_args(
            # "=" keeps the path out of pytest's rootdir guess (it treats any existing path
            # argument as a test path).
            live,
            tmp_path,
            f"--tm-ticket-map={ticket_map}",
            "--tm-link-failures",
            "DEMO-3",
        )
    )
    assert _links(live) == {
        ("test_old_api", "PAY-18"),
        ("test_old_api", "DEMO-3"),
        ("test_other", "DEMO-3"),
    }


def test_bad_ticket_map_stops_before_tests_run(
    pytester: pytest.Pytester, live: Live, tmp_path: Path
) -> None:
    ticket_map = tmp_path / "tickets.toml"
    ticket_map.write_text('[tickets]\n"test_*" = ["not a key"]\n')
    pytester.makepyfile(test_a="def test_a():\n    pass\n")
    result = pytester.runpytest_subprocess(
        *upload_args(live, tmp_path, f"--tm-ticket-map={ticket_map}")
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tickets.toml: entry 'test_*': 'not a key' is not a ticket key*"])
    assert live.api_calls() == []


def test_two_trackers_need_the_external_system_link(
    pytester: pytest.Pytester, start_live: Callable[..., Live], tmp_path: Path
) -> None:
    live = start_live(
        external_systems={
            "Demo": [
                TrackerLink(name="Jira", keys=["DUP-1"]),
                TrackerLink(name="Jira Ops", keys=["DUP-1"], system_name="Jira"),
            ]
        }
    )
    pytester.makepyfile(
        test_dup="""
        import pytest
        @pytest.mark.ticket("DUP-1", external_system_link="Jira Ops")
        def test_named():
            assert False
        @pytest.mark.ticket("DUP-1")
        def test_ambiguous():
            assert False
        """
    )
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    snapshot = live.emulator.snapshot()
    ops = next(
        link["Id"] for link in snapshot["external_system_links"] if link["Name"] == "Jira Ops"
    )
    incidents = {incident["Id"]: incident for incident in snapshot["incidents"]}
    (only,) = snapshot["node_links"]
    assert only["NodeName"] == "test_named"
    assert incidents[only["IncidentId"]]["ExternalSystemLinkId"] == ops
    result.stdout.fnmatch_lines(
        ["*link failed DUP-1 for test_dup.py::test_ambiguous*several defect trackers*"]
    )
    assert result.ret == 1


def test_older_server_falls_back_to_the_incident_path(
    pytester: pytest.Pytester, start_live: Callable[..., Live], tmp_path: Path
) -> None:
    live = start_live(legacy_server=True)
    pytester.makepyfile(test_marked=MARKED)
    result = pytester.runpytest_subprocess(*upload_args(live, tmp_path))
    result.stdout.fnmatch_lines(["*tmupload: ticket links: 8 linked*"])
    assert len(_links(live)) == 8
    # The task type was tried once, then the documented path was used for every link.
    task_posts = [
        call for call in live.api_calls("POST") if call[1].endswith("/api/backgroundtasks")
    ]
    assert len(task_posts) <= 8
    incident_posts = [call for call in live.api_calls("POST") if call[1].endswith("/incidents")]
    assert len(incident_posts) == 8
