"""Attachments in two calls (docs/servers/zephyr.md §5.7) and defect mapping
(docs/servers/zephyr.md §5.8, body [UNCONFIRMED])."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
from zephyr_emulator_helpers import TOKEN, Flow, ok

from tmupload.targets.zephyr.emulator import Emulator

UPLOAD_URL = "http://ze.test/flex/upload/document/genericattachment"


def _upload(
    client: httpx.Client, name: str, data: bytes, field: str = "releaseTestSchedule"
) -> Any:
    # the plugin sends each part as multipart/form-data; the type comes from registration
    files = {field: (name, data, "multipart/form-data")}
    return client.post(UPLOAD_URL, files=files, headers=TOKEN)


def test_upload_then_register_stores_the_bytes(flow: Flow, emu: Emulator) -> None:
    _, executions = flow.ready_phase(["a"])
    rts = executions[0]["id"]
    data = "traceback …\n".encode() * 100 + bytes(range(256))
    uploaded = ok(_upload(flow.client, "trace back.txt", data))
    assert uploaded[0]["fieldName"] == "releaseTestSchedule"
    assert uploaded[0]["fileName"] == "trace%20back.txt"  # URL-encoded [inference]
    temp = uploaded[0]["tempFilePath"]
    assert emu.snapshot()["pending_uploads"] == 1

    item = {"contentType": "text/plain", "fileSize": len(data), "itemId": rts,
            "itemType": "releaseTestSchedule", "name": "trace back.txt", "tempPath": temp,
            "createdBy": flow.user_id, "timeStamp": 1775000000000}  # fmt: skip
    registered = ok(flow.client.post("/attachment/list", json=[item]))
    assert registered[0]["fileSize"] == len(data)
    assert flow.client.post("/attachment/list", json=[item]).status_code == 400  # used once

    listed = ok(
        flow.client.get("/attachment", params={"itemid": rts, "type": "releaseTestSchedule"})
    )
    assert [a["name"] for a in listed] == ["trace back.txt"]
    wrong_case = flow.client.get(
        "/attachment", params={"itemid": rts, "type": "releasetestschedule"}
    )
    assert ok(wrong_case) == []  # type is case-sensitive [3P]

    landed = emu.snapshot()["cycles"][0]["phases"][0]["executions"][0]["attachments"]
    assert landed[0]["size"] == len(data)
    assert landed[0]["sha256"] == hashlib.sha256(data).hexdigest()
    assert landed[0]["content_type"] == "text/plain"
    content = flow.client.get(f"http://ze.test/_emulator/attachment/{landed[0]['id']}")
    assert content.content == data
    assert content.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"fileSize": 3}, "fileSize"),
        ({"tempPath": "/nowhere"}, "tempPath"),
        ({"itemType": "ReleaseTestSchedule"}, "itemType"),
        ({"itemId": 999999}, "does not exist"),
    ],
)
def test_bad_registrations_are_rejected(flow: Flow, change: dict[str, Any], fragment: str) -> None:
    _, executions = flow.ready_phase(["a"])
    temp = ok(_upload(flow.client, "a.log", b"12345"))[0]["tempFilePath"]
    item = {"contentType": "text/plain", "fileSize": 5, "itemId": executions[0]["id"],
            "itemType": "releaseTestSchedule", "name": "a.log", "tempPath": temp}  # fmt: skip
    item.update(change)
    response = flow.client.post("/attachment/list", json=[item])
    assert response.status_code == 400
    assert fragment in response.json()["message"]


def test_upload_needs_an_item_type_field_and_auth(client: httpx.Client) -> None:
    assert _upload(client, "a.txt", b"x", field="file").status_code == 400
    assert client.post(UPLOAD_URL, content=b"x", headers=TOKEN).status_code == 400
    anonymous = client.post(
        UPLOAD_URL, files={"releaseTestSchedule": ("a", b"x")}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401


def test_defect_mapping_accepted_shapes(flow: Flow, emu: Emulator) -> None:
    _, executions = flow.ready_phase(["a", "b"])
    one, two = executions[0]["id"], executions[1]["id"]
    saved = ok(flow.client.post("/defectmapping/", json={"scheduleId": one, "defectId": "PAY-17"}))
    assert saved == [{"scheduleId": one, "defectId": "PAY-17"}]
    body = [
        {"releaseTestScheduleId": two, "defectList": ["DEMO-1", "DEMO-2"]},
        {"scheduleId": one, "defectId": "PAY-17"},  # again: still one link
    ]
    ok(flow.client.post("/defectmapping/", json=body))
    landed = {e["id"]: e["defects"] for e in emu.snapshot()["cycles"][0]["phases"][0]["executions"]}
    assert landed == {one: ["PAY-17"], two: ["DEMO-1", "DEMO-2"]}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"executionId": "RTS", "jiraKey": "PAY-17"}, 400),
        ({"scheduleId": "RTS"}, 400),
        ({"scheduleId": "RTS", "defectId": 17}, 400),
        ({"scheduleId": "RTS", "defectId": "NOPE-1"}, 404),
        ({"scheduleId": 999999, "defectId": "PAY-17"}, 404),
    ],
)
def test_defect_mapping_rejections(
    flow: Flow, emu: Emulator, body: dict[str, Any], status: int
) -> None:
    _, executions = flow.ready_phase(["a"])
    body = {k: executions[0]["id"] if v == "RTS" else v for k, v in body.items()}
    response = flow.client.post("/defectmapping/", json=body)
    assert response.status_code == status
    assert response.json()["message"]
    assert emu.snapshot()["cycles"][0]["phases"][0]["executions"][0]["defects"] == []
