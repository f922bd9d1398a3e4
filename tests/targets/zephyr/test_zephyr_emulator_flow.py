"""The uploader's flow end to end and the rules of each step (docs/servers/zephyr.md §5 and §7)."""

from __future__ import annotations

import json

import httpx
import pytest
from zephyr_emulator_helpers import BASE_URL, TOKEN, Flow, ok

from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig


def test_full_flow_lands_in_the_snapshot(client: httpx.Client, flow: Flow, emu: Emulator) -> None:
    # folders: Automation (Phase) > tests (Module), found again by name among categories
    root = flow.folder("Automation")
    module = flow.folder("tests", parent=root["id"])
    tree = ok(client.get(f"/testcasetree/{root['id']}"))
    assert [c["name"] for c in tree["categories"]] == ["tests"]
    phases = ok(
        client.get(
            "/testcasetree",
            params={"type": "Phase", "revisionid": 0, "releaseid": flow.release_id},
        )
    )
    assert [p["name"] for p in phases] == ["Automation"]  # a bare array by default

    tcts = flow.create_cases(module["id"], ["test_a.py::test_ok", "test_a.py::test_bad"])
    listed = ok(client.get(f"/testcase/tree/{module['id']}", params={"offset": 0}))
    assert listed["resultSize"] == 2
    assert {t["testcase"]["name"] for t in listed["results"]} == {
        "test_a.py::test_ok",
        "test_a.py::test_bad",
    }

    cycle = flow.cycle()
    assert ok(client.get(f"/cycle/release/{flow.release_id}"))[0]["name"] == "Automation"
    phase = flow.phase(cycle["id"], "run 1")
    assert phase["freeForm"] is True and phase["tcrCatalogTreeId"]

    # the plugin's way: testcase version ids with isExclusion=true adds the whole folder
    url = f"/assignmenttree/{phase['id']}/assign/bytree/{phase['tcrCatalogTreeId']}"
    body = [
        {"treeid": module["id"], "tctIds": [t["testcase"]["id"] for t in tcts], "isExclusion": True}
    ]
    assert ok(client.post(url, params={"includehierarchy": "false"}, json=body)) == 2
    assert flow.executions(phase["id"]) == []  # nothing is an execution before assignment

    # assign through execution/modify with the phase tree's tct ids (from planning)
    planning = ok(client.get(f"/testcase/planning/{phase['tcrCatalogTreeId']}"))["results"]
    rts_list = [
        {"cyclePhaseId": phase["id"], "tctId": p["tct"]["id"], "testerId": flow.user_id}
        for p in planning
    ]
    modify = {
        "selectedAll": 1,
        "testerId": flow.user_id,
        "cyclePhaseId": phase["id"],
        "tcrCatalogTreeId": phase["tcrCatalogTreeId"],
        "createRTSList": rts_list,
    }
    assert len(ok(client.post("/execution/modify", json=modify))) == 2

    executions = flow.executions(phase["id"])
    by_version = {e["tcrTreeTestcase"]["testcase"]["id"]: e for e in executions}
    assert all(e["status"] == "10" for e in executions)
    ok_id = by_version[tcts[0]["testcase"]["id"]]["id"]
    bad_id = by_version[tcts[1]["testcase"]["id"]]["id"]
    items = [
        {"rtsId": ok_id, "testerId": flow.user_id, "status": "1", "notes": "", "actualTime": 250,
         "executedOn": 1775000000000, "changedOn": 1775000000000, "changeBy": flow.user_id},
        {"rtsId": bad_id, "testerId": flow.user_id, "status": "2", "notes": "AssertionError",
         "actualTime": 1250, "executedOn": 1775000001000},
    ]  # fmt: skip
    answer = ok(client.put("/execution/bulk/execute", json=items))
    assert [a["status"] for a in answer] == ["1", "2"]

    snap = emu.snapshot()
    assert snap["projects"][0]["releases"][0]["id"] == flow.release_id
    assert [f["path"] for f in snap["folders"]] == ["Automation", "Automation/tests"]
    assert {t["name"]: t["folder_path"] for t in snap["test_cases"]} == {
        "test_a.py::test_ok": "Automation/tests",
        "test_a.py::test_bad": "Automation/tests",
    }
    landed = {e["test_case_name"]: e for e in snap["cycles"][0]["phases"][0]["executions"]}
    assert landed["test_a.py::test_ok"]["status_name"] == "Pass"
    assert landed["test_a.py::test_bad"]["status_id"] == 2
    assert landed["test_a.py::test_bad"]["notes"] == "AssertionError"
    assert landed["test_a.py::test_bad"]["executed_on"] == 1775000001000
    assert landed["test_a.py::test_bad"]["folder_path"] == "Automation/tests"
    assert landed["test_a.py::test_bad"]["actual_time"] == 1250


def test_assign_phase_to_caller_returns_a_count(flow: Flow) -> None:
    phase, executions = flow.ready_phase(["a", "b", "c"])
    assert len(executions) == 3
    assert {e["testerId"] for e in executions} == {flow.user_id}
    assert flow.assign(phase["id"]) == 3  # again: reassigned, not duplicated
    assert len(flow.executions(phase["id"])) == 3


def test_folder_built_phase(client: httpx.Client, flow: Flow) -> None:
    root = flow.folder("Automation")
    flow.create_cases(root["id"], ["x", "y"])
    cycle = flow.cycle()
    body = {"phaseStartDate": "04/01/2026", "phaseEndDate": "04/30/2026", "freeForm": False,
            "tcrCatalogTreeId": root["id"]}  # fmt: skip
    phase = ok(client.post(f"/cycle/{cycle['id']}/phase", json=body))
    assert phase["tcrCatalogTreeId"] == root["id"] and phase["name"] == "Automation"
    assert flow.assign(phase["id"]) == 2


def test_preference_lists_statuses_as_a_json_string(client: httpx.Client) -> None:
    pref = ok(client.get("/admin/preference", params={"key": "testresult.testresultStatus.LOV"}))
    statuses = json.loads(pref["value"])
    by_id = {s["id"]: s for s in statuses}
    assert by_id[1]["active"] and by_id[2]["active"]
    assert any(not s["active"] for s in statuses)


def test_bulk_over_500_is_rejected_and_creates_nothing(flow: Flow, emu: Emulator) -> None:
    root = flow.folder("Automation")
    body = [flow.case(root["id"], f"t{i}") for i in range(501)]
    response = flow.client.post("/testcase/bulk", json=body)
    assert response.status_code == 400
    assert "500" in response.json()["message"]
    assert emu.snapshot()["test_cases"] == []
    assert len(flow.create_cases(root["id"], [f"t{i}" for i in range(500)])) == 500


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"name": "n" * 256}, "255"),
        ({"customProperties": None}, "customProperties"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_test_cases_are_rejected(flow: Flow, extra: dict[str, object], fragment: str) -> None:
    root = flow.folder("Automation")
    item = flow.case(root["id"], "ok")
    item["testcase"].update(extra)
    response = flow.client.post("/testcase/bulk", json=[item])
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_name_of_255_characters_is_accepted(flow: Flow) -> None:
    root = flow.folder("Automation")
    assert flow.create_cases(root["id"], ["n" * 255])[0]["testcase"]["name"] == "n" * 255


def test_folder_type_must_fit_its_level(flow: Flow) -> None:
    body = {"name": "X", "type": "Module", "releaseId": flow.release_id, "description": ""}
    assert flow.client.post("/testcasetree", params={"parentid": 0}, json=body).status_code == 400
    assert flow.client.post("/testcasetree", json=body).status_code == 400  # no parentid


def test_json_body_needs_the_json_content_type(flow: Flow) -> None:
    response = flow.client.post(
        "/cycle",
        content=b'{"name": "x", "releaseId": 1}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415


def test_execution_listing_caps_pages_and_reports_the_total(emu: Emulator) -> None:
    small = Emulator(EmulatorConfig(result_size_cap=3))
    with httpx.Client(
        transport=httpx.WSGITransport(app=small), base_url=BASE_URL, headers=TOKEN
    ) as http:
        flow = Flow(http)
        phase, _ = flow.ready_phase([f"t{i}" for i in range(7)])
        first = ok(http.get("/execution", params={"cyclephaseid": phase["id"], "pagesize": 1000}))
        assert len(first["results"]) == 3  # capped, whatever pagesize asks
        assert first["resultSize"] == 7  # the total, so a client can page on
        unpaged = ok(http.get("/execution", params={"cyclephaseid": phase["id"]}))
        assert len(unpaged["results"]) == 3
        everything = flow.executions(phase["id"], pagesize=1000)
        assert len({e["id"] for e in everything}) == 7
        last = ok(http.get("/execution", params={"cyclephaseid": phase["id"], "offset": 6}))
        assert len(last["results"]) == 1 and last["firstResult"] == 6


@pytest.mark.parametrize(("status", "fragment"), [("5", "not active"), ("99", "does not exist")])
def test_inactive_or_unknown_status_rejects_the_batch(
    flow: Flow, emu: Emulator, status: str, fragment: str
) -> None:
    _, executions = flow.ready_phase(["a", "b"])
    items = [
        {"rtsId": executions[0]["id"], "status": "1"},
        {"rtsId": executions[1]["id"], "status": status},
    ]
    response = flow.client.put("/execution/bulk/execute", json=items)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    landed = emu.snapshot()["cycles"][0]["phases"][0]["executions"]
    assert {e["status_id"] for e in landed} == {10}  # nothing changed


def test_bulk_execute_over_500_is_rejected(flow: Flow) -> None:
    _, executions = flow.ready_phase(["a"])
    items = [{"rtsId": executions[0]["id"], "status": "1"}] * 501
    assert flow.client.put("/execution/bulk/execute", json=items).status_code == 400


def test_per_status_bulk_call(flow: Flow, emu: Emulator) -> None:
    _, executions = flow.ready_phase(["a", "b"])
    params: dict[str, str | int] = {
        "status": 4,
        "testerid": flow.user_id,
        "allExecutions": "false",
        "includeanyoneuser": "true",
    }
    body = {"ids": [e["id"] for e in executions], "serachView": False}
    answer = ok(flow.client.put("/execution/bulk", params=params, json=body))
    assert {a["status"] for a in answer} == {"4"}
    inactive = flow.client.put("/execution/bulk", params={**params, "status": 5}, json=body)
    assert inactive.status_code == 400


def test_single_execution_put_and_post(flow: Flow) -> None:
    _, executions = flow.ready_phase(["a"])
    rts = executions[0]["id"]
    params = {"status": 2, "testerid": flow.user_id}
    body = {"teststepUpdate": True, "teststepStausId": "1", "notes": "Added from API"}
    put = ok(flow.client.put(f"/execution/{rts}", params=params, json=body))
    assert put["status"] == "2" and put["comment"] == "Added from API"
    post = ok(flow.client.post(f"/execution/{rts}", params={"status": 1}, json=body))
    assert post["status"] == "1"


def test_single_execution_method_can_be_restricted() -> None:
    emu = Emulator(EmulatorConfig(single_execute_methods=("POST",)))
    with httpx.Client(
        transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN
    ) as http:
        _, executions = Flow(http).ready_phase(["a"])
        url = f"/execution/{executions[0]['id']}"
        assert http.put(url, params={"status": 1}).status_code == 405
        assert http.post(url, params={"status": 1}).status_code == 200


def test_tree_listing_in_a_results_envelope() -> None:
    emu = Emulator(EmulatorConfig(tree_results_envelope=True))
    with httpx.Client(
        transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN
    ) as http:
        flow = Flow(http)
        flow.folder("Automation")
        answer = ok(
            http.get("/testcasetree", params={"type": "Phase", "releaseid": flow.release_id})
        )
        assert [n["name"] for n in answer["results"]] == ["Automation"]


def test_environment_required_cycles(flow: Flow) -> None:
    emu = Emulator(EmulatorConfig(environment_required=True))
    with httpx.Client(
        transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN
    ) as http:
        rid = Flow(http).release_id
        assert http.post("/cycle", json={"name": "c", "releaseId": rid}).status_code == 400
        body = {"name": "c", "releaseId": rid, "environment": "CI"}
        assert http.post("/cycle", json=body).status_code == 200


def test_paged_releases_and_hierarchy_copy(client: httpx.Client, flow: Flow, emu: Emulator) -> None:
    paged = ok(client.get(f"/release/paged/project/{flow.project_id}", params={"pagesize": 0}))
    assert [r["name"] for r in paged["results"]] == ["2026.4"]
    root = flow.folder("Automation")
    module = flow.folder("pkg", parent=root["id"])
    tcts = flow.create_cases(module["id"], ["t1"])
    assert ok(client.get(f"/testcasetree/hierarchy/{root['id']}")) == [root["id"], module["id"]]
    phase = flow.phase(flow.cycle()["id"])
    url = f"/assignmenttree/{phase['id']}/assign/bytree/{phase['tcrCatalogTreeId']}"
    body = [{"treeid": module["id"], "tctIds": [tcts[0]["id"]], "isExclusion": False}]
    assert ok(client.post(url, params={"includehierarchy": "true"}, json=body)) == 1
    assert ok(client.post(url, params={"includehierarchy": "true"}, json=body)) == 0  # once
    phase_tree = ok(client.get(f"/testcasetree/{phase['tcrCatalogTreeId']}"))
    assert phase_tree["categories"][0]["name"] == "Automation"
    assert phase_tree["categories"][0]["categories"][0]["name"] == "pkg"
    assert flow.assign(phase["id"]) == 1
    landed = emu.snapshot()["cycles"][0]["phases"][0]["executions"]
    assert landed[0]["folder_path"] == "Automation/pkg"
    assert [f["path"] for f in emu.snapshot()["folders"]] == ["Automation", "Automation/pkg"]
