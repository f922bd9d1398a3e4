"""Run and node attachments (docs/servers/et.md §5.4), uploaded as MIME multipart
(docs/servers/et.md §2.10)."""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tmupload.targets.et.emulator import Emulator, EmulatorServer, serve_in_thread

if TYPE_CHECKING:
    from conftest import Et

ADMIN = ("admin", "admin")
VIEWER = ("viewer", "viewer")
UNKNOWN = "0b6a4f6e-5c1d-4f0e-9d7a-3c2b1a000001"
ITEM_FIELDS = "RunId Id Name FileName ContentType CreatedAt CreatedById Size Self Content"
ITEM_KEYS = ITEM_FIELDS.split()
NODE_ITEM_KEYS = ["RunId", "NodeId", *ITEM_KEYS[1:]]
#: Every byte value, CRLFs and something that looks like a delimiter: bytes must survive as-is.
BINARY = bytes(range(256)) + b"\r\n--not-the-boundary\r\n\r\n" + bytes(range(255, -1, -1))


def _png() -> bytes:
    """A real 1x1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG = _png()
LOG_CT = "text/plain"
LOG = b"first line\r\nsecond line\nno newline at the end"
ONE_FILE = [("f", ("a.txt", b"a", "text/plain"))]
RUN_KEYS = (
    "Id AssignmentId AutomatedTestId Status RunBy ImportedAt StartedAt FinishedAt Totals Nodes"
)
NODE_KEYS = "Id Name Status DurationInSeconds Description Metadata Notes Incidents Children"


def _post(
    client: httpx.Client,
    url: str,
    files: list[tuple[str, tuple[str, bytes, str]]],
    *,
    mixed: bool = False,
) -> httpx.Response:
    """POST the files as multipart/form-data, or (curl style) relabelled multipart/mixed."""
    request = client.build_request("POST", url, files=files)
    if mixed:
        request.headers["Content-Type"] = request.headers["Content-Type"].replace(
            "multipart/form-data", "multipart/mixed"
        )
    return client.send(request)


def _raw(client: httpx.Client, url: str, body: bytes, boundary: str) -> httpx.Response:
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    return client.post(url, content=body, headers=headers)


def _run_with_nodes(et: Et) -> tuple[str, dict[str, Any], dict[str, Any]]:
    placement = et.placement()
    run = et.import_run(
        placement.assignment_id, et.junit(("test_pay", "failed"), ("test_ok", "passed"))
    )
    return run["Id"], et.leaf(run["Id"], "test_pay"), et.leaf(run["Id"], "test_ok")


def _urls(run_id: str, node_id: str) -> tuple[str, str]:
    run_url = f"/api/automatedtestrun/{run_id}/attachments"
    return run_url, f"/api/automatedtestrun/{run_id}/node/{node_id}/attachments"


def _snapshot_node(emu: Emulator, run_id: str, name: str) -> dict[str, Any]:
    run = next(r for r in emu.snapshot()["runs"] if r["Id"] == run_id)
    pending = list(run["Nodes"])
    while pending:
        node = pending.pop()
        if node["Name"] == name:
            return dict(node)
        pending.extend(node["Children"])
    raise AssertionError(f"no node named {name!r}")


# -- upload ------------------------------------------------------------------------------------


def test_node_upload_form_data_two_parts(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    _, node_url = _urls(run_id, node["Id"])
    files = [("log", ("pytest.log", LOG, "text/plain")), ("shot", ("shot.png", PNG, "image/png"))]
    created = _post(et.client, node_url, files)
    assert created.status_code == 201, created.text
    items = created.json()
    assert isinstance(items, list) and len(items) == 2
    log, shot = items
    assert list(log) == NODE_ITEM_KEYS
    assert (log["RunId"], log["NodeId"]) == (run_id, node["Id"])
    assert (log["Name"], log["FileName"], log["ContentType"]) == ("pytest", "pytest.log", LOG_CT)
    assert (shot["FileName"], shot["ContentType"]) == ("shot.png", "image/png")
    assert log["Size"] == len(LOG) and shot["Size"] == len(PNG)
    assert log["CreatedAt"].endswith("Z")
    base = "http://et.test/EnterpriseTester/api"
    run_base = f"{base}/automatedtestrun/{run_id}"
    assert log["Self"] == f"{run_base}/node/{node['Id']}/attachment/{log['Id']}"
    assert log["Content"] == f"{base}/attachment/{log['Id']}/contents"


def test_run_upload_multipart_mixed_two_parts(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    files = [
        ("fileupload", ("data.bin", BINARY, "application/x-custom")),
        ("fileupload", ("run.log", LOG, "text/plain; charset=utf-8")),
    ]
    created = _post(et.client, run_url, files, mixed=True)
    assert created.status_code == 201, created.text
    assert [list(item) for item in created.json()] == [ITEM_KEYS, ITEM_KEYS]
    types = [item["ContentType"] for item in created.json()]
    assert types == ["application/x-custom", "text/plain; charset=utf-8"]
    listed = et.client.get(run_url)
    assert listed.status_code == 200
    assert listed.json() == created.json()  # a bare JSON array (docs/servers/et.md §2.5, §5.4)
    assert et.client.get(node_url).json() == []  # run attachments are not the node's


def test_bytes_in_are_bytes_stored_and_served(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    _, node_url = _urls(run_id, node["Id"])
    uploads = [("data.bin", BINARY, "application/octet-stream"), ("x.png", PNG, "image/png")]
    items = _post(et.client, node_url, [("f", u) for u in uploads], mixed=True).json()
    stored = _snapshot_node(emu, run_id, "test_pay")["Attachments"]
    assert stored == [
        {"Id": i["Id"], "Name": name, "ContentType": content_type, "Size": len(content)}
        | {"Sha256": hashlib.sha256(content).hexdigest()}
        for i, (name, content, content_type) in zip(items, uploads, strict=True)
    ]
    for item, content in zip(items, (BINARY, PNG), strict=True):
        served = et.client.get(item["Content"])
        assert served.status_code == 200
        assert served.content == content
        assert served.headers["Content-Type"] == item["ContentType"]
        assert "attachment" in served.headers["Content-Disposition"]


def test_the_documented_example_body_is_accepted(et: Et) -> None:
    """docs/servers/et.md §2.10, verbatim (``Content-Disposition: attachment``, a ``size``
    parameter)."""
    run_id, node, _ = _run_with_nodes(et)
    boundary = "65bf6b94-c91c-442c-abe7-f41444d7c71f"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: attachment; filename="notes.txt"; name=notes; size=3\r\n'
        "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\nABC\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    created = _raw(et.client, _urls(run_id, node["Id"])[1], body, boundary)
    assert created.status_code == 201, created.text
    [item] = created.json()
    facts = [item[k] for k in ("Name", "FileName", "ContentType", "Size")]
    assert facts == ["notes", "notes.txt", "text/plain", 3]
    assert et.client.get(item["Content"]).content == b"ABC"


def test_a_part_without_content_type_is_octet_stream(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    body = (
        b"preamble to ignore\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="file"; filename="raw.dat"\r\n\r\n'
        b"\x00\x01\r\n\r\n--XyZ--\r\n"
    )
    created = _raw(et.client, _urls(run_id, node["Id"])[1], body, "XyZ")
    assert created.status_code == 201, created.text
    [item] = created.json()
    assert (item["ContentType"], item["Size"]) == ("application/octet-stream", 4)
    assert et.client.get(item["Content"]).content == b"\x00\x01\r\n"


def test_non_ascii_file_names_round_trip(et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    name = "résumé ü 日本.txt"
    [item] = _post(
        et.client, _urls(run_id, node["Id"])[1], [("f", (name, b"x", "text/plain"))]
    ).json()
    assert item["FileName"] == name
    served = et.client.get(item["Content"])
    assert "filename*=UTF-8''" in served.headers["Content-Disposition"]


# -- listing, errors, permissions --------------------------------------------------------------


def test_lists_start_empty_and_keep_upload_order(et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    assert et.client.get(run_url).json() == []
    assert et.client.get(node_url).json() == []
    for name in ("one.txt", "two.txt", "three.txt"):
        assert _post(et.client, node_url, [("f", (name, b"x", "text/plain"))]).status_code == 201
    names = [i["FileName"] for i in et.client.get(node_url).json()]
    assert names == ["one.txt", "two.txt", "three.txt"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"a": 1}', {"Content-Type": "application/json"}),
        (b"plain text", {"Content-Type": "text/plain"}),
        (b"no content type", {}),
        (b"a=1&b=2", {"Content-Type": "application/x-www-form-urlencoded"}),
    ],
)
def test_a_body_that_is_not_multipart_is_415(
    emu: Emulator, et: Et, content: bytes, headers: dict[str, str]
) -> None:
    run_id, node, _ = _run_with_nodes(et)
    for url in _urls(run_id, node["Id"]):
        refused = et.client.post(url, content=content, headers=headers)
        assert refused.status_code == 415, refused.text
        assert refused.json()["Message"]
    assert _snapshot_node(emu, run_id, "test_pay")["Attachments"] == []


def test_a_multipart_body_that_cannot_be_read_is_400(et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    url = _urls(run_id, node["Id"])[1]
    no_boundary = et.client.post(url, content=b"x", headers={"Content-Type": "multipart/mixed"})
    assert no_boundary.status_code == 400
    assert _raw(et.client, url, b"--B\r\nContent-Type: text/plain\r\n\r\nA", "B").status_code == 400
    assert _raw(et.client, url, b"--B--\r\n", "B").status_code == 400  # no parts


def test_unknown_run_node_or_attachment_is_404(et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    for url in (
        f"/api/automatedtestrun/{UNKNOWN}/attachments",
        f"/api/automatedtestrun/{UNKNOWN}/node/{node['Id']}/attachments",
        f"/api/automatedtestrun/{run_id}/node/{UNKNOWN}/attachments",
        f"/api/automatedtestrun/{run_id}/node/not-a-guid/attachments",
    ):
        assert et.client.get(url).status_code == 404, url
        assert _post(et.client, url, ONE_FILE).status_code == 404, url
    assert et.client.get(f"/api/attachment/{UNKNOWN}/contents").status_code == 404


def test_the_read_only_user_may_list_but_not_upload(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    viewer = httpx.Client(
        transport=httpx.WSGITransport(app=emu),
        base_url="http://et.test/EnterpriseTester",
        auth=VIEWER,
    )
    with viewer:
        for url in _urls(run_id, node["Id"]):
            refused = _post(viewer, url, ONE_FILE)
            assert refused.status_code == 403
            assert "viewer" in refused.json()["Message"]
            assert viewer.get(url).status_code == 200
        item = _post(et.client, _urls(run_id, node["Id"])[1], ONE_FILE).json()[0]
        assert viewer.get(item["Content"]).content == b"a"
        assert viewer.delete(item["Self"]).status_code == 403
    assert len(_snapshot_node(emu, run_id, "test_pay")["Attachments"]) == 1


def test_has_attachments_becomes_true_for_that_node_only(et: Et) -> None:
    """docs/servers/et.md §5.3 ``HasAttachments``; a run's own attachments leave its nodes alone."""
    run_id, node, other = _run_with_nodes(et)
    node_url = f"/api/automatedtestrun/{run_id}/node/{node['Id']}"
    assert node["HasAttachments"] is False
    assert _post(et.client, f"{node_url}/attachments", ONE_FILE)
    assert et.client.get(node_url).json()["HasAttachments"] is True
    assert et.leaf(run_id, "test_pay")["HasAttachments"] is True  # via /children
    assert et.leaf(run_id, "test_ok")["HasAttachments"] is False
    other_url = f"/api/automatedtestrun/{run_id}/node/{other['Id']}"
    assert et.client.get(other_url).json()["HasAttachments"] is False
    patched = et.client.patch(node_url, json={"Notes": "see the log"})
    assert patched.json()["HasAttachments"] is True
    _post(et.client, _urls(run_id, node["Id"])[0], ONE_FILE)  # a run attachment
    assert et.leaf(run_id, "test_ok")["HasAttachments"] is False


def test_item_at_self_and_delete(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    node_item = _post(et.client, node_url, ONE_FILE).json()[0]
    run_item = _post(et.client, run_url, ONE_FILE).json()[0]
    assert et.client.get(node_item["Self"]).json() == node_item
    assert et.client.get(run_item["Self"]).json() == run_item
    wrong_owner = f"/api/automatedtestrun/{run_id}/attachment/{node_item['Id']}"
    assert et.client.get(wrong_owner).status_code == 404
    deleted = et.client.delete(node_item["Self"])
    assert deleted.status_code == 200 and deleted.json()["Id"] == node_item["Id"]
    assert et.client.get(node_url).json() == []
    assert et.leaf(run_id, "test_pay")["HasAttachments"] is False
    assert et.client.get(node_item["Content"]).status_code == 404
    assert et.client.delete(node_item["Self"]).status_code == 404
    assert et.client.delete(run_item["Self"]).status_code == 200
    assert et.client.get(run_url).json() == []


# -- snapshot ----------------------------------------------------------------------------------


def test_snapshot_adds_attachments_and_keeps_the_other_keys(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    _post(et.client, run_url, [("f", ("run.log", LOG, "text/plain"))])
    _post(et.client, node_url, [("f", ("node.log", LOG, "text/plain"))])
    run = next(r for r in emu.snapshot()["runs"] if r["Id"] == run_id)
    assert list(run) == [*RUN_KEYS.split(), "Attachments"]
    assert [a["Name"] for a in run["Attachments"]] == ["run.log"]
    leaf = _snapshot_node(emu, run_id, "test_pay")
    assert set(leaf) == {*NODE_KEYS.split(), "Attachments"}
    assert [a["Name"] for a in leaf["Attachments"]] == ["node.log"]
    assert _snapshot_node(emu, run_id, "pytest")["Attachments"] == []  # the suite node
    assert emu.runs()[0]["Attachments"] == run["Attachments"]


# -- faults and the request log ----------------------------------------------------------------


@pytest.fixture
def served(emu: Emulator) -> Iterator[EmulatorServer]:
    with serve_in_thread(emu) as server:
        yield server


def test_drop_after_apply_stores_the_attachment_and_drops_the_answer(
    emu: Emulator, et: Et, served: EmulatorServer
) -> None:
    run_id, node, _ = _run_with_nodes(et)
    _, node_url = _urls(run_id, node["Id"])
    emu.configure_faults(fail_next=["drop_after_apply"])
    with httpx.Client(base_url=served.url, auth=ADMIN, timeout=5.0) as http:
        with pytest.raises(httpx.TransportError):
            _post(http, node_url, [("f", ("lost-answer.txt", b"kept", "text/plain"))], mixed=True)
        stored = _snapshot_node(emu, run_id, "test_pay")["Attachments"]
        assert [a["Name"] for a in stored] == ["lost-answer.txt"]
        assert emu.requests[-1] == ("POST", f"/EnterpriseTester{node_url}", 0)
        listed = http.get(node_url)
        assert [i["FileName"] for i in listed.json()] == ["lost-answer.txt"]


def test_injected_status_stores_nothing_and_is_logged(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    emu.configure_faults(fail_next=[503])
    refused = _post(et.client, node_url, ONE_FILE)
    assert refused.status_code == 503
    assert _snapshot_node(emu, run_id, "test_pay")["Attachments"] == []
    assert et.client.get(run_url).status_code == 200
    assert emu.requests[-2:] == [
        ("POST", f"/EnterpriseTester{node_url}", 503),
        ("GET", f"/EnterpriseTester{run_url}", 200),
    ]


def test_contents_need_auth_and_take_faults(emu: Emulator, et: Et) -> None:
    run_id, node, _ = _run_with_nodes(et)
    [item] = _post(et.client, _urls(run_id, node["Id"])[1], ONE_FILE).json()
    assert et.client.get(item["Content"], auth=("admin", "wrong")).status_code == 401
    emu.configure_faults(fail_next=[429])
    assert et.client.get(item["Content"]).status_code == 429


# -- the page ----------------------------------------------------------------------------------


def test_page_lists_attachments_with_an_inline_image_and_serves_the_bytes(
    emu: Emulator, et: Et
) -> None:
    run_id, node, _ = _run_with_nodes(et)
    run_url, node_url = _urls(run_id, node["Id"])
    files = [("log", ("pytest.log", LOG, "text/plain")), ("shot", ("shot.png", PNG, "image/png"))]
    log, shot = _post(et.client, node_url, files).json()
    _post(et.client, run_url, [("f", ("summary<b>.txt", b"s", "text/plain"))])
    emu.configure_faults(status_503=1.0)  # the page and its links take no faults
    with httpx.Client(
        transport=httpx.WSGITransport(app=emu), base_url="http://et.test/EnterpriseTester"
    ) as anonymous:
        for page in (anonymous.get("/"), anonymous.get("/", params={"run": run_id})):
            assert page.status_code == 200
            html = page.text
            log_href = f"/EnterpriseTester/_emulator/attachment/{log['Id']}"
            shot_href = f"/EnterpriseTester/_emulator/attachment/{shot['Id']}"
            assert f'<a href="{log_href}">pytest.log</a>' in html
            assert "text/plain" in html and f"{len(LOG)} B" in html
            assert f'<a href="{shot_href}">shot.png</a>' in html
            assert f'<img class=thumb src="{shot_href}"' in html
            assert f'src="{log_href}"' not in html  # only images are inline
            assert "summary&lt;b&gt;.txt" in html and "summary<b>" not in html
        image = anonymous.get(f"/_emulator/attachment/{shot['Id']}")
        assert image.status_code == 200
        assert image.content == PNG
        assert image.headers["Content-Type"] == "image/png"
        assert image.headers["Content-Disposition"].startswith("inline")
        assert "sandbox" in image.headers["Content-Security-Policy"]
        assert anonymous.get(f"/_emulator/attachment/{log['Id']}").content == LOG
        assert anonymous.get(f"/_emulator/attachment/{UNKNOWN}").status_code == 404
        assert anonymous.post(f"/_emulator/attachment/{log['Id']}").status_code == 405
