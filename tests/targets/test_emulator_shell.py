"""The emulator shell (``tmupload.emulation``), through the smallest emulator built on it.

What every server's emulator gets from the shell without writing it: the ``/_emulator``
controls, faults and their request log, latency on the emulator's clock, route dispatch with
its 404/405/403, the page, serving on a socket.
"""

from __future__ import annotations

import base64

import httpx
import pytest
from sketch_emulator import SketchConfig, SketchEmulator

from tmupload.emulation import EmulatedConnectionReset, ManualClock, serve_in_thread

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin").decode()}
VIEWER = {"Authorization": "Basic " + base64.b64encode(b"viewer:viewer").decode()}


def _client(emulator: SketchEmulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emulator), base_url="http://sk.test")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1_000_000.0)


@pytest.fixture
def emu(clock: ManualClock) -> SketchEmulator:
    return SketchEmulator(SketchConfig(clock=clock))


@pytest.fixture
def client(emu: SketchEmulator) -> httpx.Client:
    return _client(emu)


def test_routes_answer_and_refuse_in_the_servers_words(client: httpx.Client) -> None:
    made = client.post("/api/notes", json={"text": "hi"}, headers=ADMIN)
    assert made.status_code == 201 and made.json() == {"id": 1, "text": "hi", "at": 1_000_000.0}
    assert client.get("/api/notes", headers=VIEWER).json() == [made.json()]
    assert client.get("/api/notes").json() == {"error": "Who are you?"}
    wrong = client.put("/api/notes", headers=ADMIN)
    assert (wrong.status_code, wrong.headers["Allow"]) == (405, "GET, POST")
    assert wrong.json() == {"error": "No PUT on /api/notes."}
    assert client.post("/api/notes", json={}, headers=VIEWER).json() == {
        "error": "viewer reads only."
    }
    assert client.get("/api/nothing", headers=ADMIN).status_code == 404
    assert client.get("/elsewhere").json() == {"error": "No resource at /elsewhere."}
    empty = client.post("/api/notes", headers=ADMIN)
    assert empty.json() == {"error": "The request body is empty; JSON was expected."}


def test_controls_inspect_reset_and_switch(emu: SketchEmulator, client: httpx.Client) -> None:
    client.post("/api/notes", json={"text": "hi"}, headers=ADMIN)
    assert client.get("/_emulator/state").json()["notes"][0]["text"] == "hi"
    assert client.get("/_emulator/requests").json() == [["POST", "/api/notes", 201]]
    assert client.post("/_emulator/strict", json={"strict": True}).json() == {"strict": True}
    assert emu.strict is True
    assert client.post("/_emulator/strict", json={"strict": 1}).status_code == 400
    assert client.post("/_emulator/faults", json={"status_503": 1.0}).json()["status_503"] == 1.0
    assert client.post("/_emulator/faults", json={"status_503": 2}).status_code == 400
    assert client.get("/_emulator/state", headers=ADMIN).status_code == 200  # never faulted
    assert client.post("/_emulator/reset").json() == {"message": "The emulator was reset."}
    assert emu.snapshot() == {"notes": []} and emu.requests == []
    assert emu.strict is False and emu.faults.status_503 == 0.0
    assert client.get("/_emulator/reset").headers["Allow"] == "POST"
    assert client.get("/_emulator/nothing").status_code == 404
    assert client.get("/_emulator/attachment/7").json() == {"error": "No attachment 7."}
    assert client.post("/_emulator/attachment/7").status_code == 405


def test_faults_are_answered_logged_and_dropped(emu: SketchEmulator, client: httpx.Client) -> None:
    emu.configure_faults(fail_next=[429, "drop_after_apply"], retry_after=7)
    limited = client.get("/api/notes", headers=ADMIN)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "7")
    assert limited.json() == {"error": "Injected fault: HTTP 429."}
    with pytest.raises(EmulatedConnectionReset):
        client.post("/api/notes", json={"text": "lost answer"}, headers=ADMIN)
    assert [note["text"] for note in emu.snapshot()["notes"]] == ["lost answer"]  # applied
    assert emu.requests == [("GET", "/api/notes", 429), ("POST", "/api/notes", 0)]


def test_latency_and_slow_faults_pass_on_the_emulators_clock(clock: ManualClock) -> None:
    emu = SketchEmulator(SketchConfig(latency=5.0, clock=clock))
    emu.configure_faults(fail_next=["slow"], slow_seconds=60.0)
    client = _client(emu)
    assert client.get("/api/notes", headers=ADMIN).status_code == 200
    assert clock.time() == 1_000_065.0  # no real wait: the test's clock moved
    client.get("/api/notes", headers=ADMIN)
    assert clock.time() == 1_000_070.0
    assert client.get("/").status_code == 200 and clock.time() == 1_000_070.0  # page: none


def test_the_page_and_serving_on_a_socket(emu: SketchEmulator) -> None:
    with serve_in_thread(emu) as server:
        page = httpx.get(server.url + "/")
        assert page.status_code == 200 and "<title>Sketch emulator</title>" in page.text
        posted = httpx.post(server.url + "/")
        assert posted.status_code == 405 and posted.headers["Allow"] == "GET"
        assert httpx.get(server.url + "/api/notes", headers=ADMIN).json() == []
