"""Fault injection, the control endpoints, the HTML page, and a real socket."""

from __future__ import annotations

import httpx
import pytest
from zephyr_emulator_helpers import TOKEN, Flow, ok

from tmupload.targets.zephyr.emulator import (
    EmulatedConnectionReset,
    Emulator,
    EmulatorConfig,
    serve_in_thread,
)


def test_drop_after_apply_changes_state_without_answering(flow: Flow, emu: Emulator) -> None:
    emu.configure_faults(fail_next=["drop_after_apply"])
    body = {"name": "Automation", "type": "Phase", "releaseId": flow.release_id}
    with pytest.raises(EmulatedConnectionReset):
        flow.client.post("/testcasetree", params={"parentid": 0}, json=body)
    assert [f["name"] for f in emu.snapshot()["folders"]] == ["Automation"]
    assert emu.requests[-1] == ("POST", "/flex/services/rest/latest/testcasetree", 0)


def test_429_carries_retry_after_and_changes_nothing(flow: Flow, emu: Emulator) -> None:
    emu.configure_faults(fail_next=[429, 503], retry_after=7)
    body = {"name": "c", "releaseId": flow.release_id}
    first = flow.client.post("/cycle", json=body)
    assert first.status_code == 429 and first.headers["retry-after"] == "7"
    assert "errorCode" in first.json()
    assert flow.client.post("/cycle", json=body).status_code == 503
    assert emu.snapshot()["cycles"] == []
    assert flow.client.post("/cycle", json=body).status_code == 200


def test_reset_fault_only_for_chosen_methods(flow: Flow, emu: Emulator) -> None:
    emu.configure_faults(reset=1.0, only_methods={"PUT"})
    assert flow.client.get("/user/current").status_code == 200
    with pytest.raises(EmulatedConnectionReset):
        flow.client.put("/execution/bulk/execute", json=[])


def test_control_endpoints(flow: Flow, emu: Emulator) -> None:
    control = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://ze.test")
    flow.folder("Automation")
    state = ok(control.get("/_emulator/state"))
    assert state["folders"][0]["path"] == "Automation"
    requests = ok(control.get("/_emulator/requests"))
    assert ["GET", "/flex/services/rest/latest/user/current", 200] in requests
    faults = ok(control.post("/_emulator/faults", json={"status_503": 1.0}))
    assert faults["status_503"] == 1.0
    assert flow.client.get("/project").status_code == 503
    assert ok(control.get("/_emulator/state"))  # control is never faulted
    assert control.post("/_emulator/faults", json={"status_503": 2}).status_code == 400
    ok(control.post("/_emulator/faults", json={}))
    ok(control.post("/_emulator/reset"))
    assert emu.snapshot()["folders"] == [] and emu.requests == []
    assert control.get("/_emulator/reset").status_code == 405
    assert control.get("/_emulator/nothing").status_code == 404


def test_page_shows_what_landed(flow: Flow, emu: Emulator) -> None:
    phase, executions = flow.ready_phase(["test_<script>"])
    rts = executions[0]["id"]
    ok(flow.client.put("/execution/bulk/execute", json=[
        {"rtsId": rts, "status": "2", "notes": "boom & bust"}
    ]))  # fmt: skip
    upload = flow.client.post(
        "http://ze.test/flex/upload/document/genericattachment",
        files={"releaseTestSchedule": ("out.txt", b"hello", "text/plain")},
    )
    item = {"contentType": "text/plain", "fileSize": 5, "itemId": rts,
            "itemType": "releaseTestSchedule", "name": "out.txt",
            "tempPath": ok(upload)[0]["tempFilePath"]}  # fmt: skip
    ok(flow.client.post("/attachment/list", json=[item]))
    ok(flow.client.post("/defectmapping/", json={"scheduleId": rts, "defectId": "PAY-18"}))
    page = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://ze.test")
    html = page.get("/").text
    for text in ("Demo", "2026.4", "Automation", "test_&lt;script&gt;", "Fail",
                 "boom &amp; bust", "out.txt", "text/plain", "5 bytes", "PAY-18"):  # fmt: skip
        assert text in html
    assert "<script>" not in html
    one = page.get("/", params={"phase": phase["id"]})
    assert one.status_code == 200 and "boom &amp; bust" in one.text
    assert page.get("/", params={"phase": 999999}).status_code == 404


def test_over_a_real_socket_with_injected_reset() -> None:
    emu = Emulator(EmulatorConfig())
    with serve_in_thread(emu) as server:
        assert server.emulator is emu
        assert server.url.startswith("http://127.0.0.1:") and server.url.count("/") == 2
        base = server.url + "/flex/services/rest/latest"
        with httpx.Client(base_url=base, headers=TOKEN, timeout=5) as http:
            flow = Flow(http)
            _, executions = flow.ready_phase(["a", "b"])
            assert len(executions) == 2
            emu.configure_faults(fail_next=["drop_after_apply"])
            items = [{"rtsId": executions[0]["id"], "status": "1"}]
            with pytest.raises(httpx.TransportError):
                http.put("/execution/bulk/execute", json=items)
            landed = emu.snapshot()["cycles"][0]["phases"][0]["executions"]
            assert landed[0]["status_name"] == "Pass"  # applied, though never answered
            assert http.get(server.url + "/").status_code == 200
