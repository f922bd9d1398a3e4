"""Fault injection over a real socket, the control endpoints, and the server's life cycle."""

from __future__ import annotations

import _thread
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tmupload.targets.et.emulator import (
    EmulatedConnectionReset,
    Emulator,
    EmulatorConfig,
    EmulatorServer,
    Faults,
    run_forever,
    serve_in_thread,
)

ADMIN = ("admin", "admin")


@pytest.fixture
def served(emu: Emulator) -> Iterator[EmulatorServer]:
    with serve_in_thread(emu) as server:
        yield server


@pytest.fixture
def http(served: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, auth=ADMIN, timeout=5.0) as client:
        yield client


def _outcome(client: httpx.Client, method: str = "GET", path: str = "/api") -> int | str:
    try:
        return client.request(method, path).status_code
    except httpx.TransportError:
        return "reset"


def test_server_url_and_port(served: EmulatorServer) -> None:
    assert served.url == f"http://127.0.0.1:{served.port}/EnterpriseTester"
    assert served.port > 0
    answer = httpx.get(f"{served.url}/api/systeminfo", auth=ADMIN)
    assert answer.status_code == 200
    assert answer.json()["RootUrl"] == f"{served.url}/"


def test_injected_503_and_429_with_retry_after(emu: Emulator, http: httpx.Client) -> None:
    emu.configure_faults(fail_next=[503, 429], retry_after=7)
    unavailable = http.get("/api/projects")
    assert unavailable.status_code == 503 and unavailable.json()["Message"]
    limited = http.get("/api/projects")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "7"
    assert http.get("/api/projects").status_code == 200  # the queue is used up
    assert [status for _, _, status in emu.requests] == [503, 429, 200]


def test_reset_is_a_transport_error_and_changes_nothing(emu: Emulator, http: httpx.Client) -> None:
    project = http.get("/api/projects").json()["Items"][0]["Id"]
    emu.configure_faults(fail_next=["reset"])
    with pytest.raises(httpx.TransportError):
        http.post("/api/scriptpackages", json={"ProjectId": project, "Name": "Lost"})
    assert emu.snapshot()["script_packages"] == []
    assert emu.requests[-1] == ("POST", "/EnterpriseTester/api/scriptpackages", 0)
    assert http.get("/api").status_code == 200  # the server keeps serving


def test_drop_after_apply_changes_state_but_answers_nothing(
    emu: Emulator, http: httpx.Client
) -> None:
    project = http.get("/api/projects").json()["Items"][0]["Id"]
    emu.configure_faults(fail_next=["drop_after_apply"])
    with pytest.raises(httpx.TransportError):
        http.post("/api/scriptpackages", json={"ProjectId": project, "Name": "Applied"})
    assert [p["Name"] for p in emu.snapshot()["script_packages"]] == ["Applied"]


def test_fail_next_is_consumed_in_order_and_only_for_chosen_methods(
    emu: Emulator, http: httpx.Client
) -> None:
    emu.configure_faults(fail_next=[502, "reset", 503], only_methods={"post"})
    assert _outcome(http) == 200  # GETs are not eligible and consume nothing
    assert _outcome(http, "POST", "/api/backgroundtasks") == 502
    assert _outcome(http) == 200
    assert _outcome(http, "POST", "/api/backgroundtasks") == "reset"
    assert _outcome(http, "POST", "/api/backgroundtasks") == 503
    assert emu.faults.fail_next == []


def test_slow_answers_take_the_configured_time(emu: Emulator, http: httpx.Client) -> None:
    emu.configure_faults(fail_next=["slow"], slow_seconds=0.3)
    started = time.monotonic()
    assert http.get("/api").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_same_seed_gives_the_same_fault_sequence() -> None:
    faults = Faults(status_503=0.3, status_429=0.2, reset=0.2)

    def sequence(seed: int) -> list[int | str]:
        emulator = Emulator(EmulatorConfig(seed=seed, faults=faults))
        with (
            serve_in_thread(emulator) as server,
            httpx.Client(base_url=server.url, auth=ADMIN, timeout=5.0) as client,
        ):
            return [_outcome(client) for _ in range(24)]

    first, again, other = sequence(7), sequence(7), sequence(8)
    assert first == again
    assert first != other
    assert {200, 503, 429, "reset"} <= set(first)


def test_faults_never_touch_the_page_or_the_control_endpoints(
    emu: Emulator, served: EmulatorServer
) -> None:
    emu.configure_faults(status_503=1.0)
    with httpx.Client(base_url=served.url, timeout=5.0) as anonymous:
        assert anonymous.get("/").status_code == 200
        assert anonymous.get("/_emulator/state").status_code == 200
        assert anonymous.get("/api", auth=ADMIN).status_code == 503


def test_control_endpoints_over_http(emu: Emulator, served: EmulatorServer) -> None:
    with httpx.Client(base_url=served.url, timeout=5.0) as control:
        configured = control.post(
            "/_emulator/faults", json={"fail_next": [429], "only_methods": ["GET"]}
        )
        assert configured.status_code == 200
        assert configured.json()["fail_next"] == [429]
        assert control.get("/api", auth=ADMIN).status_code == 429
        logged = control.get("/_emulator/requests").json()
        assert logged == [["GET", "/EnterpriseTester/api", 429]]
        assert control.post("/_emulator/faults", json={"status_503": 2}).status_code == 400
        assert control.post("/_emulator/faults", json={"bogus": 1}).status_code == 400
        project = control.get("/api/projects", auth=ADMIN).json()["Items"][0]["Id"]
        control.post("/api/scriptpackages", json={"ProjectId": project, "Name": "P"}, auth=ADMIN)
        state = control.get("/_emulator/state").json()
        assert [p["Name"] for p in state["script_packages"]] == ["P"]
        assert control.post("/_emulator/reset").status_code == 200
        assert control.get("/_emulator/state").json()["script_packages"] == []
        assert control.get("/_emulator/requests").json() == []
        assert control.get("/_emulator/reset").status_code == 405
    assert emu.snapshot()["projects"][0]["Id"] != project  # a fresh world after reset


def test_in_process_reset_raises_through_the_wsgi_transport(
    emu: Emulator, client: httpx.Client
) -> None:
    emu.configure_faults(fail_next=["reset"])
    with pytest.raises(EmulatedConnectionReset):
        client.get("/api")
    assert client.get("/api").status_code == 200


def test_latency_is_added_to_api_requests() -> None:
    emu = Emulator(EmulatorConfig(latency=0.2))
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url="http://et.test/EnterpriseTester") as c:
        started = time.monotonic()
        c.get("/_emulator/state")
        fast = time.monotonic() - started
        started = time.monotonic()
        c.get("/api", auth=ADMIN)
        slow = time.monotonic() - started
    assert fast < 0.2 <= slow


def test_stop_closes_the_listening_socket(emu: Emulator) -> None:
    server = serve_in_thread(emu)
    port = server.port
    server.stop()
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass
    server.stop()  # idempotent


def test_run_forever_serves_until_ctrl_c_then_closes() -> None:
    seen: list[str] = []
    statuses: list[int] = []

    returned = threading.Event()

    def probe(url: str) -> None:
        try:
            statuses.append(httpx.get(f"{url}/api", auth=ADMIN, timeout=5.0).status_code)
        finally:
            _thread.interrupt_main()  # what Ctrl-C does to the foreground server
            # An interrupt that lands while the main thread is between bytecodes of the
            # interpreter's own machinery can be lost; a second one keeps the test from
            # hanging the whole suite (the assertions below still judge the server).
            while not returned.wait(10.0):
                _thread.interrupt_main()

    def ready(url: str) -> None:
        seen.append(url)
        threading.Thread(target=probe, args=(url,), daemon=True).start()

    # What Ctrl-C raises needs Python's own SIGINT handler; an earlier test in this worker
    # may have left another one in place (the interrupts would then be ignored).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run_forever(EmulatorConfig(), on_ready=ready)  # returns: the interrupt is handled
    finally:
        returned.set()
        signal.signal(signal.SIGINT, previous)
    (url,) = seen
    assert url.startswith("http://127.0.0.1:") and url.endswith("/EnterpriseTester")
    assert statuses == [200]
    port = int(url.split(":")[2].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


@pytest.mark.parametrize(
    "fields",
    [
        {"status_503": 1.5},
        {"reset": -0.1},
        {"status_503": 0.6, "status_429": 0.6},  # one draw: the rates must not add past 1
        {"fail_next": ["explode"]},
        {"fail_next": [42]},
    ],
)
def test_invalid_fault_profiles_are_refused(emu: Emulator, fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        emu.configure_faults(**fields)
    assert emu.faults == Faults()  # the previous profile stays


def test_rates_of_one_always_fire(emu: Emulator, client: httpx.Client) -> None:
    emu.configure_faults(status_429=1.0, retry_after=3)
    answers = [client.get("/api") for _ in range(5)]
    assert {(a.status_code, a.headers["Retry-After"]) for a in answers} == {(429, "3")}
    emu.configure_faults()
    assert client.get("/api").status_code == 200


def test_concurrent_uploads_over_a_socket_each_make_one_run(
    emu: Emulator, served: EmulatorServer
) -> None:
    with httpx.Client(base_url=served.url, auth=ADMIN, timeout=10.0) as client:
        project = client.get("/api/projects").json()["Items"][0]["Id"]
        script = client.post("/api/scriptpackages", json={"ProjectId": project, "Name": "S"})
        test = client.post(
            "/api/automatedtests", json={"PackageId": script.json()["Id"], "Name": "T"}
        ).json()
        execution = client.post("/api/executionpackages", json={"ProjectId": project, "Name": "E"})
        assignment = client.post(
            "/api/automatedtestassignments",
            json={"PackageId": execution.json()["Id"], "AutomatedTestId": test["Id"]},
        ).json()
        runs_url = f"/api/automatedtestassignment/{assignment['Id']}/runs"

        def upload(index: int) -> int:
            cases = "".join(f"<testcase name='t{index}_{i}'/>" for i in range(200))
            xml = f"<testsuite name='upload {index}'>{cases}</testsuite>".encode()
            return client.post(runs_url, files={"report": ("r.xml", xml)}).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(upload, range(16)))
        assert statuses == [202] * 16
        deadline = time.monotonic() + 10
        while len(emu.runs()) < 16:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        listed = client.get(runs_url, params={"$top": "100"}).json()["Items"]
    imported = [run["ImportedAt"] for run in listed]
    assert len(set(imported)) == 16 and imported == sorted(imported)
    suites = sorted(run["Nodes"][0]["Name"] for run in emu.runs())
    assert suites == sorted(f"upload {i}" for i in range(16))
