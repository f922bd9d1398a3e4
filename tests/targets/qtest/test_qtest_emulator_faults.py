"""Faults, control endpoints, the HTML page and a real socket for the qTest emulator."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from qtest_emulator_helpers import TOKEN, attachment, entry, submit, wait_job

from tmupload.emulation import server as generic_server
from tmupload.targets.qtest.emulator import (
    EmulatedConnectionReset,
    Emulator,
    EmulatorConfig,
    Faults,
    run_forever,
    serve_in_thread,
)


def test_drop_after_apply_changes_state_without_answering(
    client: httpx.Client, emu: Emulator, project_id: int
) -> None:
    emu.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})
    with pytest.raises(EmulatedConnectionReset):
        client.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "Lost"})
    assert [c["name"] for c in emu.snapshot()["cycles"]] == ["Lost"]
    assert emu.requests[-1] == ("POST", f"/api/v3/projects/{project_id}/test-cycles", 0)


def test_dropped_submission_still_lands(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    emu.configure_faults(fail_next=["drop_after_apply"], only_methods={"POST"})
    with pytest.raises(EmulatedConnectionReset):
        submit(client, project_id, cycle["id"], [entry()])
    snap = emu.snapshot()
    assert [j["state"] for j in snap["jobs"]] == ["SUCCESS"]
    assert len(snap["test_runs"]) == 1


def test_429_with_retry_after_and_503(client: httpx.Client, emu: Emulator) -> None:
    emu.configure_faults(fail_next=[429, 503], retry_after=7)
    limited = client.get("/api/v3/projects")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert client.get("/api/v3/projects").status_code == 503
    assert client.get("/api/v3/projects").status_code == 200
    assert [status for _, _, status in emu.requests] == [429, 503, 200]


def test_faults_reach_oauth_but_not_the_page_or_controls(emu: Emulator) -> None:
    emu.configure_faults(status_503=1.0)
    anon = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://acme.qtest.test")
    assert anon.post("/oauth/token", data={"username": "a"}).status_code == 503
    assert anon.get("/").status_code == 200
    assert anon.get("/_emulator/state").status_code == 200


def test_control_endpoints(client: httpx.Client, emu: Emulator, project_id: int) -> None:
    client.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "C"})
    state = client.get("/_emulator/state").json()
    assert state["cycles"][0]["name"] == "C"
    assert client.get("/_emulator/requests").json()[-1][0] == "POST"
    configured = client.post("/_emulator/faults", json={"fail_next": [503]})
    assert configured.json()["fail_next"] == [503]
    assert client.get("/_emulator/faults").json()["fail_next"] == [503]
    assert client.post("/_emulator/faults", json={"status_503": 5}).status_code == 400
    assert client.post("/_emulator/reset").status_code == 200
    assert emu.snapshot()["cycles"] == [] and emu.requests == []
    assert emu.faults == Faults()
    assert client.get("/_emulator/nothing").status_code == 404
    assert client.get("/_emulator/reset").status_code == 405


def test_page_shows_what_landed(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    logs = [
        entry(
            "test_<b>",
            "FAIL",
            note="boom & <bust>",
            attachments=[attachment("out.txt", b"captured")],
            defect_pids=["PAY-17"],
        )
    ]
    wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    index = client.get("/").text
    assert "Automation" in index and "test_&lt;b&gt;" in index and "PAY-17" in index
    run = emu.snapshot()["test_runs"][0]
    page = client.get("/", params={"run": run["id"]}).text
    assert "boom &amp; &lt;bust&gt;" in page and "Failed" in page
    (att,) = run["logs"][0]["attachments"]
    assert f"/_emulator/attachments/{att['id']}" in page and "8 bytes" in page
    assert client.get(f"/_emulator/attachments/{att['id']}").content == b"captured"
    assert client.get("/", params={"run": 1}).status_code == 404


def test_over_a_real_socket() -> None:
    emu = Emulator(EmulatorConfig(job_delay=0.0))
    with serve_in_thread(emu) as server, httpx.Client(base_url=server.url, headers=TOKEN) as http:
        assert server.emulator is emu and server.url.startswith("http://127.0.0.1:")
        login = http.post(
            "/oauth/token",
            headers={"Authorization": "Basic " + base64.b64encode(b"acme:").decode()},
            data={"grant_type": "password", "username": "admin", "password": "admin"},
        )
        assert login.status_code == 200
        project_id = http.get("/api/v3/projects").json()[0]["id"]
        cycle = http.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "S"}).json()
        job = wait_job(http, submit(http, project_id, cycle["id"], [entry()])["id"])
        assert job["state"] == "SUCCESS"
        emu.configure_faults(fail_next=["reset"])
        with pytest.raises(httpx.TransportError):
            http.get("/api/v3/projects")
        emu.configure_faults(fail_next=["drop_after_apply"])
        with pytest.raises(httpx.TransportError):
            http.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "T"})
        assert [c["name"] for c in emu.snapshot()["cycles"]][-1] == "T"


def test_run_forever_reports_its_url_and_ends_on_ctrl_c(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(generic_server.EmulatorServer, "serve_forever", interrupted)
    urls: list[str] = []
    run_forever(EmulatorConfig(), on_ready=urls.append)
    assert len(urls) == 1 and urls[0].startswith("http://127.0.0.1:")
