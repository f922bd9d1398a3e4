"""The whole upload flow of docs/servers/et.md §9 through httpx.WSGITransport, checked against the
reference."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import TYPE_CHECKING

import httpx
import pytest

from tmupload.targets.et.emulator import Emulator

if TYPE_CHECKING:
    from conftest import Et

EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


def test_discovery_lists_the_documented_root_relations(client: httpx.Client) -> None:
    links = client.get("/api").json()["Links"]
    rels = {link["Rel"]: link for link in links}
    assert set(rels) == {
        "Projects",
        "ScriptPackages",
        "ExecutionPackages",
        "AutomatedTests",
        "AutomatedTestAssignments",
        "AutomatedTestRuns",
        "BackgroundTasks",
        "SystemInfo",
        "Search",
    }
    assert rels["Projects"]["Href"] == "http://et.test/EnterpriseTester/api/projects"
    assert set(rels["Projects"]) == {
        "Title",
        "Href",
        "Rel",
        "Description",
        "SupportedHttpMethods",
        "SupportsOData",
        "SupportsTQL",
        "Help",
    }
    info = client.get(rels["SystemInfo"]["Href"]).json()
    assert info["PackagePathSeparator"] == "|"
    assert info["Version"] == "6.8.0.0"
    assert info["RootUrl"] == "http://et.test/EnterpriseTester/"


def test_full_upload_flow_produces_a_run_with_nodes_and_totals(et: Et) -> None:
    placement = et.placement()
    assignment = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}").json()
    assert assignment["Status"] == "Not Run"  # with a space (docs/servers/et.md §4.3)
    runs_link = next(link["Href"] for link in assignment["Links"] if link["Rel"] == "Runs")
    assert runs_link.endswith(f"/api/automatedtestassignment/{placement.assignment_id}/runs")

    xml = et.junit(
        ("test_ok", "passed"),
        ("test_ok_too", "passed"),
        ("test_bad", "failed"),
        ("test_bad_too", "failed"),
        ("test_setup", "error"),
        ("test_later", "skipped"),
    )
    accepted = et.upload(placement.assignment_id, xml)
    assert accepted.status_code == 202
    task = accepted.json()
    assert task["Complete"] is False
    assert task["Id"].startswith("automatedtestimport-")
    assert uuid.UUID(task["Id"].removeprefix("automatedtestimport-"))
    assert task["TotalElements"] == 6
    assert 0.0 <= task["ProgressInPercent"] <= 1.0
    assert "RunId" not in task and "Run" not in task  # the task does not name the run

    done = et.wait(task["Self"])
    assert done["Complete"] is True and done["ProgressInPercent"] == 1.0
    assert "FinishedAt" in done and "Error" not in done

    runs = et.client.get(runs_link, params={"$expand": "Totals"}).json()
    assert runs["Total"] == 1
    run = runs["Items"][0]
    assert run["Status"] == "Failed"
    assert run["AssignmentId"] == placement.assignment_id
    assert run["RunBy"] == "admin"
    assert set(run) == {
        "RunByDisplayName",
        "RunBy",
        "RunById",
        "AssignmentId",
        "Id",
        "Status",
        "ImportedAt",
        "StartedAt",
        "FinishedAt",
        "Self",
        "Links",
        "Expands",
        "Totals",
    }
    totals = run["Totals"]
    assert (totals["Passed"], totals["Failed"], totals["Errors"], totals["Skipped"]) == (2, 2, 1, 1)
    assert totals["TotalResults"] == 6
    assert totals["TotalNodes"] == 7  # the suite plus six cases

    roots = et.nodes(run["Id"])
    assert isinstance(roots, list)  # a bare array (docs/servers/et.md §5.3)
    assert [root["Name"] for root in roots] == ["pytest"]
    assert "Children" not in roots[0]
    children = et.client.get(
        f"/api/automatedtestrun/{run['Id']}/node/{roots[0]['Id']}/children"
    ).json()
    assert [(c["Name"], c["Status"]) for c in children] == [
        ("test_ok", "Passed"),
        ("test_ok_too", "Passed"),
        ("test_bad", "Failed"),
        ("test_bad_too", "Failed"),
        ("test_setup", "Error"),
        ("test_later", "Skipped"),
    ]
    after = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}").json()
    assert after["Status"] == "Failed"


def test_result_nodes_carry_exactly_the_documented_fields(et: Et) -> None:
    placement = et.placement()
    run = et.import_run(placement.assignment_id, et.junit(("test_bad", "failed")))
    node = et.leaf(run["Id"], "test_bad")
    assert set(node) == {
        "HasAttachments",
        "HasIncidents",
        "HasChildren",
        "Id",
        "Name",
        "Description",
        "Notes",
        "Status",
        "Iteration",
        "StartedAt",
        "FinishedAt",
        "DurationInSeconds",
        "Expands",
        "Metadata",
        "Parameters",
        "Self",
    }
    assert node["Description"] == "assert 1 == 2"
    assert node["Metadata"] == {"Type": "AssertionError", "Output": "trace"}
    assert node["DurationInSeconds"] == 0.25
    assert node["HasChildren"] is False and node["HasIncidents"] is False
    single = et.client.get(node["Self"]).json()
    assert single == node


def test_expand_children_inlines_one_level(et: Et) -> None:
    placement = et.placement()
    xml = (
        b"<testsuites><testsuite name='outer'><testsuite name='inner'>"
        b"<testcase name='deep'/></testsuite><testcase name='shallow'/></testsuite></testsuites>"
    )
    run = et.import_run(placement.assignment_id, xml)
    roots = et.client.get(
        f"/api/automatedtestrun/{run['Id']}/nodes", params={"$expand": "Children"}
    ).json()
    (outer,) = roots
    assert [(c["Name"], c["HasChildren"]) for c in outer["Children"]] == [
        ("inner", True),
        ("shallow", False),
    ]
    assert all("Children" not in child for child in outer["Children"])
    inner = outer["Children"][0]
    deep = et.client.get(f"/api/automatedtestrun/{run['Id']}/node/{inner['Id']}/children").json()
    assert [d["Name"] for d in deep] == ["deep"]


def test_empty_guid_children_are_the_roots_and_statuses_filter(et: Et) -> None:
    placement = et.placement()
    xml = et.junit(("a", "passed"), ("b", "failed"), ("c", "error"), ("d", "skipped"))
    run = et.import_run(placement.assignment_id, xml)
    roots = et.client.get(f"/api/automatedtestrun/{run['Id']}/node/{EMPTY_GUID}/children")
    assert [r["Id"] for r in roots.json()] == [r["Id"] for r in et.nodes(run["Id"])]
    suite_id = roots.json()[0]["Id"]
    children_url = f"/api/automatedtestrun/{run['Id']}/node/{suite_id}/children"
    failing = et.client.get(children_url, params={"statuses": "Failed,Error"}).json()
    assert sorted(n["Name"] for n in failing) == ["b", "c"]
    bad = et.client.get(children_url, params={"statuses": "Failed,Broken"})
    assert bad.status_code == 400
    assert "Broken" in bad.json()["Message"] or "broken" in bad.json()["Message"]


def test_runs_are_ordered_by_strictly_increasing_imported_at(et: Et) -> None:
    placement = et.placement()
    first = et.import_run(placement.assignment_id, et.junit(("x", "failed")))
    second = et.import_run(placement.assignment_id, et.junit(("x", "passed")))
    assert second["Id"] != first["Id"]
    assert second["ImportedAt"] > first["ImportedAt"]
    url = f"/api/automatedtestassignment/{placement.assignment_id}/runs"
    newest = et.client.get(url, params={"$orderby": "ImportedAt desc", "$top": "1"}).json()
    assert [r["Id"] for r in newest["Items"]] == [second["Id"]]
    assert newest["Total"] == 2 and newest["Top"] == 1
    oldest = et.client.get(url, params={"$orderby": "ImportedAt asc"}).json()
    assert [r["Id"] for r in oldest["Items"]] == [first["Id"], second["Id"]]
    skipped = et.client.get(url, params={"$orderby": "ImportedAt asc", "$skip": "1"}).json()
    assert [r["Id"] for r in skipped["Items"]] == [second["Id"]]
    status = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}").json()
    assert status["Status"] == "Passed"  # the latest run's status
    single = et.client.get(f"/api/automatedtestrun/{first['Id']}", params={"$expand": "Totals"})
    assert single.json()["Totals"]["Failed"] == 1


@pytest.mark.parametrize("part", ["fileupload", "report"])
def test_zip_of_xml_files_merges_into_one_run(et: Et, part: str) -> None:
    placement = et.placement()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("one.xml", et.junit(("a", "passed"), suite="one"))
        zipped.writestr("nested/two.xml", et.junit(("b", "failed"), suite="two"))
        zipped.writestr("readme.txt", "not results")
    accepted = et.upload(
        placement.assignment_id,
        archive.getvalue(),
        part=part,
        filename="results.zip",
        content_type="application/zip",
    )
    assert accepted.status_code == 202
    assert "Error" not in et.wait(accepted.json()["Self"])
    runs = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}/runs").json()
    (run,) = runs["Items"]
    assert [n["Name"] for n in et.nodes(run["Id"])] == ["one", "two"]
    assert run["Status"] == "Failed"


def test_started_at_comes_from_the_suite_timestamp(et: Et) -> None:
    placement = et.placement()
    xml = et.junit(("a", "passed"), ("b", "passed"), timestamp="2024-05-01T10:00:00+02:00")
    run = et.import_run(placement.assignment_id, xml)
    assert run["StartedAt"] == "2024-05-01T08:00:00Z"
    assert run["FinishedAt"] == "2024-05-01T08:00:00.500000Z"  # two cases of 0.25 s


def test_patch_notes_on_a_node(et: Et) -> None:
    placement = et.placement()
    run = et.import_run(placement.assignment_id, et.junit(("a", "passed")))
    node = et.leaf(run["Id"], "a")
    patched = et.client.patch(node["Self"], json={"Notes": "looked at it"})
    assert patched.status_code == 200
    assert et.client.get(node["Self"]).json()["Notes"] == "looked at it"
    assert et.client.patch(node["Self"], json={"Status": "Passed"}).status_code == 403


def test_snapshot_and_runs_show_what_landed(emu: Emulator, et: Et) -> None:
    placement = et.placement()
    run = et.import_run(placement.assignment_id, et.junit(("a", "passed"), ("b", "skipped")))
    (seen,) = emu.runs()
    assert seen["Id"] == run["Id"]
    assert seen["Totals"]["Skipped"] == 1
    assert [c["Name"] for c in seen["Nodes"][0]["Children"]] == ["a", "b"]
    state = emu.snapshot()
    assert [p["Name"] for p in state["script_packages"]] == ["Automated"]
    assert [a["Status"] for a in state["assignments"]] == ["Passed"]
    assert state["tasks"][0]["Complete"] is True
    logged = [entry for entry in emu.requests if entry[0] == "POST"]
    assert logged[-1] == (
        "POST",
        f"/EnterpriseTester/api/automatedtestassignment/{placement.assignment_id}/runs",
        202,
    )
