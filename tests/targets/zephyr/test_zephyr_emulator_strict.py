"""Strict mode: docs/servers/zephyr.md §2's bound of 500 items a bulk call, applied to what a call
selects.

Each test runs lenient (today's behaviour) and strict (``EmulatorConfig.strict``, or
``POST /_emulator/strict``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from zephyr_emulator_helpers import Flow, ok

from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig

LIMIT = 500  # docs/servers/zephyr.md §2: the vendor's BATCH_SIZE, EmulatorConfig.max_bulk's default


def _names(count: int, prefix: str = "case") -> list[str]:
    return [f"{prefix}_{i:04d}" for i in range(count)]


def _folder_of(flow: Flow, count: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A repository folder holding ``count`` test cases (created ≤500 a call)."""
    folder = flow.folder("Automation")
    tcts: list[dict[str, Any]] = []
    names = _names(count)
    for start in range(0, count, LIMIT):
        tcts += flow.create_cases(folder["id"], names[start : start + LIMIT])
    return folder, tcts


def _bytree(flow: Flow, phase: dict[str, Any], items: list[dict[str, Any]]) -> httpx.Response:
    url = f"/assignmenttree/{phase['id']}/assign/bytree/{phase['tcrCatalogTreeId']}"
    return flow.client.post(url, params={"includehierarchy": "false"}, json=items)


def _refused_for_limit(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert f"at most {LIMIT}" in response.json()["message"]


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def strict(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def config(strict: bool) -> EmulatorConfig:
    return EmulatorConfig(strict=strict)


# -- assign/bytree (docs/servers/zephyr.md §5.5 step 1) --------------------------------------------


def test_whole_folder_item_counts_every_case_it_selects(flow: Flow, strict: bool) -> None:
    folder, _ = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    # The plugin's item: isExclusion true with ids no tct has (testcase version ids) -> all.
    answer = _bytree(flow, phase, [{"treeid": folder["id"], "tctIds": [], "isExclusion": True}])
    in_phase = ok(flow.client.get(f"/testcase/tree/{phase['tcrCatalogTreeId']}"))["results"]
    if strict:
        _refused_for_limit(answer)
        assert "isExclusion" in answer.json()["message"]
        assert in_phase == []  # nothing added
    else:
        assert ok(answer) == LIMIT + 1
        assert len(in_phase) == LIMIT + 1


def test_whole_folder_item_within_the_bound_passes_both_ways(flow: Flow) -> None:
    folder, tcts = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    # exclude one: the item selects exactly 500
    item = {"treeid": folder["id"], "tctIds": [tcts[0]["id"]], "isExclusion": True}
    assert ok(_bytree(flow, phase, [item])) == LIMIT


def test_exclusion_items_add_up_across_one_call(flow: Flow, strict: bool) -> None:
    first, _ = _folder_of(flow, 300)
    second = flow.folder("More")
    flow.create_cases(second["id"], _names(201, "more"))
    phase = flow.phase(flow.cycle()["id"])
    items = [
        {"treeid": first["id"], "tctIds": [], "isExclusion": True},
        {"treeid": second["id"], "tctIds": [], "isExclusion": True},
    ]
    answer = _bytree(flow, phase, items)
    if strict:
        _refused_for_limit(answer)
    else:
        assert ok(answer) == 501
    # split in two calls, the same selection passes in both modes
    fresh = flow.phase(flow.cycle("second")["id"])
    assert ok(_bytree(flow, fresh, items[:1])) == 300
    assert ok(_bytree(flow, fresh, items[1:])) == 201


def test_listed_ids_are_bounded_in_both_modes(flow: Flow) -> None:
    folder, tcts = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    ids = [t["id"] for t in tcts]
    too_many = {"treeid": folder["id"], "tctIds": ids, "isExclusion": False}
    _refused_for_limit(_bytree(flow, phase, [too_many]))
    fits = {"treeid": folder["id"], "tctIds": ids[:LIMIT], "isExclusion": False}
    assert ok(_bytree(flow, phase, [fits])) == LIMIT


# -- whole-phase assign (docs/servers/zephyr.md §5.5 step 2) ---------------------------------------


def test_whole_phase_assign_is_bounded_when_strict(flow: Flow, strict: bool) -> None:
    folder, tcts = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    flow.add_to_phase(phase, folder["id"], [t["id"] for t in tcts[:250]])
    flow.add_to_phase(phase, folder["id"], [t["id"] for t in tcts[250:]])
    answer = flow.client.post(f"/assignmenttree/{phase['id']}/assign")
    if strict:
        _refused_for_limit(answer)
        assert "executions" in answer.json()["message"]
        assert flow.executions(phase["id"]) == []
    else:
        assert ok(answer) == LIMIT + 1
        assert len(flow.executions(phase["id"])) == LIMIT + 1


def test_whole_phase_assign_counts_only_new_executions(flow: Flow) -> None:
    """Executions made ≤500 a call through execution/modify; then the whole-phase assign
    creates just the rest, which fits, and reassigns the others (both modes)."""
    folder, tcts = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    flow.add_to_phase(phase, folder["id"], [t["id"] for t in tcts[:250]])
    flow.add_to_phase(phase, folder["id"], [t["id"] for t in tcts[250:]])
    planning = ok(
        flow.client.get(
            f"/testcase/planning/{phase['tcrCatalogTreeId']}", params={"pagesize": 1000}
        )
    )["results"]
    entries = [
        {"cyclePhaseId": phase["id"], "tctId": row["tct"]["id"], "testerId": flow.user_id}
        for row in planning[:LIMIT]
    ]
    body = {"cyclePhaseId": phase["id"], "testerId": flow.user_id, "createRTSList": entries}
    assert len(ok(flow.client.post("/execution/modify", json=body))) == LIMIT
    assert ok(flow.client.post(f"/assignmenttree/{phase['id']}/assign")) == LIMIT + 1


# -- the calls bounded in both modes (docs/servers/zephyr.md §2, §5.3, §5.5, §5.6, §5.7) -----------


def test_testcase_bulk_is_bounded(flow: Flow) -> None:
    folder = flow.folder("Automation")
    body = [flow.case(folder["id"], name) for name in _names(LIMIT + 1)]
    _refused_for_limit(flow.client.post("/testcase/bulk", json=body))
    assert len(ok(flow.client.post("/testcase/bulk", json=body[:LIMIT]))) == LIMIT


def test_execution_writes_are_bounded(flow: Flow) -> None:
    phase, executions = flow.ready_phase(["a", "b"])
    ids = [e["id"] for e in executions]
    many_ids = (ids * (LIMIT // 2 + 1))[: LIMIT + 1]
    query = {"status": 1, "testerid": flow.user_id}
    bulk = flow.client.put(
        "/execution/bulk", params=query, json={"ids": many_ids, "serachView": False}
    )
    _refused_for_limit(bulk)
    items = [{"rtsId": i, "testerId": flow.user_id, "status": "1"} for i in many_ids]
    _refused_for_limit(flow.client.put("/execution/bulk/execute", json=items))
    assert len(ok(flow.client.put("/execution/bulk/execute", json=items[:LIMIT]))) == LIMIT
    tct = executions[0]["tcrTreeTestcase"]["id"]
    entries = [{"cyclePhaseId": phase["id"], "tctId": tct}] * (LIMIT + 1)
    modify = {"cyclePhaseId": phase["id"], "createRTSList": entries}
    _refused_for_limit(flow.client.post("/execution/modify", json=modify))


def test_attachment_registration_is_bounded(flow: Flow) -> None:
    _, executions = flow.ready_phase(["a"])
    item = {
        "contentType": "text/plain",
        "fileSize": 1,
        "itemId": executions[0]["id"],
        "itemType": "releaseTestSchedule",
        "name": "x.txt",
        "tempPath": "nowhere",
    }
    _refused_for_limit(flow.client.post("/attachment/list", json=[item] * (LIMIT + 1)))


# -- switching (config field, control route, reset) ------------------------------------------


def test_strict_is_switched_by_the_control_route(emu: Emulator, strict: bool) -> None:
    control = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://ze.test")
    assert ok(control.get("/_emulator/strict")) == {"strict": strict}
    assert emu.strict is strict
    assert ok(control.post("/_emulator/strict", json={"strict": not strict})) == {
        "strict": not strict
    }
    assert emu.strict is not strict
    assert control.post("/_emulator/strict", json={"strict": "yes"}).status_code == 400
    assert control.post("/_emulator/strict", content=b"[1]").status_code == 400
    assert control.delete("/_emulator/strict").status_code == 405
    ok(control.post("/_emulator/reset"))
    assert emu.strict is strict  # reset goes back to EmulatorConfig.strict
    assert emu.configure_strict(True) is True and emu.strict


def test_switching_on_at_run_time_refuses_a_whole_folder(flow: Flow, emu: Emulator) -> None:
    folder, _ = _folder_of(flow, LIMIT + 1)
    phase = flow.phase(flow.cycle()["id"])
    control = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://ze.test")
    ok(control.post("/_emulator/strict", json={"strict": True}))
    item = {"treeid": folder["id"], "tctIds": [], "isExclusion": True}
    _refused_for_limit(_bytree(flow, phase, [item]))
    ok(control.post("/_emulator/strict", json={"strict": False}))
    assert ok(_bytree(flow, phase, [item])) == LIMIT + 1
