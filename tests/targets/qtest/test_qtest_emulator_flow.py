"""The qTest emulator's placement and submission flow (docs/servers/qtest.md §4.1, §5, §7.4, §8)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
from qtest_emulator_helpers import BASE_URL, TOKEN, attachment, entry, submit, wait_job

from tmupload.emulation import ManualClock
from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig


def test_cycles_under_root_release_and_cycle(client: httpx.Client, project_id: int) -> None:
    base = f"/api/v3/projects/{project_id}"
    releases = client.get(f"{base}/releases").json()
    assert [r["name"] for r in releases] == ["Release 1.0"]
    release_id = releases[0]["id"]
    top = client.post(
        f"{base}/test-cycles", params={"parentId": 0, "parentType": "root"}, json={"name": "A"}
    ).json()
    assert top["pid"].startswith("CL-") and top["test-cycles"] == []
    child = client.post(
        f"{base}/test-cycles",
        params={"parentId": top["id"], "parentType": "test-cycle"},
        json={"name": "B"},
    ).json()
    in_release = client.post(
        f"{base}/test-cycles",
        params={"parentId": release_id, "parentType": "release"},
        json={"name": "Nightly"},
    ).json()
    assert in_release["target_release_id"] == release_id

    def names(params: dict[str, Any]) -> list[str]:
        response = client.get(f"{base}/test-cycles", params=params)
        assert response.status_code == 200, response.text
        return [c["name"] for c in response.json()]

    assert names({"parentId": 0, "parentType": "root"}) == ["A"]
    assert names({"parentId": top["id"], "parentType": "test-cycle"}) == ["B"]
    assert names({"parentId": release_id, "parentType": "release"}) == ["Nightly"]
    deep = client.get(
        f"{base}/test-cycles", params={"parentType": "root", "expand": "descendants"}
    ).json()
    assert deep[0]["test-cycles"][0]["id"] == child["id"]
    assert client.get(f"{base}/test-cycles/{child['id']}").json()["name"] == "B"
    missing = client.get(f"{base}/test-cycles", params={"parentId": 999, "parentType": "release"})
    assert missing.status_code == 404
    assert client.post(f"{base}/test-cycles", json={"name": ""}).status_code == 400
    assert client.get("/api/v3/projects/1").status_code == 404


def test_job_passes_through_states_then_lands() -> None:
    clock = ManualClock()
    emu = Emulator(EmulatorConfig(job_delay=60.0, clock=clock))
    client = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN)
    project_id = client.get("/api/v3/projects").json()[0]["id"]
    cycle = client.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "CI"}).json()
    job = submit(client, project_id, cycle["pid"], [entry()])
    assert job["state"] == "IN_WAITING" and job["type"] == "AUTOMATION_TEST_LOG"
    path = f"/api/v3/projects/queue-processing/{job['id']}"
    assert client.get(path).json()["state"] == "IN_WAITING"
    assert emu.snapshot()["test_runs"] == []  # nothing lands before the job ends
    clock.advance(29.0)
    assert client.get(path).json()["state"] == "IN_WAITING"  # half of job_delay waiting
    clock.advance(2.0)
    assert client.get(path).json()["state"] == "IN_PROCESSING"
    clock.advance(28.0)
    assert client.get(path).json()["state"] == "IN_PROCESSING"
    assert emu.snapshot()["test_runs"] == []
    clock.advance(2.0)
    done = client.get(path).json()
    assert done["state"] == "SUCCESS"
    content = json.loads(done["content"])  # docs/servers/qtest.md §5: a JSON string
    assert content["totalTestLogs"] == 1
    # docs/servers/qtest.md §5: the path has no project segment
    wrong = client.get(f"/api/v3/projects/{project_id}/queue-processing/{job['id']}")
    assert wrong.status_code == 404


def test_submission_lands_runs_logs_and_attachments(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    trace = b"Traceback ...\nAssertionError"
    logs = [
        entry("test_ok", "pass"),
        entry(
            "test_bad",
            "FAIL",
            note="AssertionError: expected 401",
            attachments=[attachment("traceback.txt", trace)],
            test_step_logs=[
                {
                    "order": 0,
                    "description": "call",
                    "expected_result": "passes",
                    "actual_result": "fails",
                    "status": "FAIL",
                }
            ],
        ),
        entry("test_skip", "SKIPPED"),
    ]
    job = wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    assert job["state"] == "SUCCESS", job["content"]
    snap = emu.snapshot()
    runs = {r["name"]: r for r in snap["test_runs"]}
    assert {r["cycle_path"] for r in runs.values()} == {"Automation/tests/test_mod.py"}
    assert runs["test_ok"]["status"] == "Passed"
    assert runs["test_skip"]["status"] == "Unexecuted"
    bad = runs["test_bad"]
    assert bad["status"] == "Failed"
    assert bad["automation_content"] == "tests/test_mod.py::test_bad"
    (log,) = bad["logs"]
    assert log["note"] == "AssertionError: expected 401"
    assert log["exe_start_date"].startswith("2025-03-01T10:15:30.000")
    assert log["attachments"] == [
        {
            "id": log["attachments"][0]["id"],
            "name": "traceback.txt",
            "content_type": "text/plain",
            "size": len(trace),
            "sha256": hashlib.sha256(trace).hexdigest(),
        }
    ]
    assert {t["module_path"] for t in snap["test_cases"]} == {"tests/test_mod.py"}
    # the attachment's bytes come back from the API
    base = f"/api/v3/projects/{project_id}"
    served = client.get(f"{base}/test-logs/{log['id']}/attachments/{log['attachments'][0]['id']}")
    assert served.content == trace and served.headers["content-type"] == "text/plain"
    last = client.get(f"{base}/test-runs/{bad['id']}/test-logs/last-run").json()
    assert last["id"] == log["id"] and last["status"]["name"] == "Failed"
    assert last["test_step_logs"][0]["status"]["name"] == "Failed"


def test_second_submission_reuses_case_and_run(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    wait_job(client, submit(client, project_id, cycle["pid"], [entry("test_x", "FAIL")])["id"])
    renamed = {**entry("test_x", "PASS"), "name": "a new name is ignored"}
    wait_job(client, submit(client, project_id, cycle["pid"], [renamed])["id"])
    snap = emu.snapshot()
    assert len(snap["test_cases"]) == 1
    (run,) = snap["test_runs"]
    assert run["name"] == "test_x"  # docs/servers/qtest.md §4.1: names are never changed
    assert [log["status"] for log in run["logs"]] == ["Failed", "Passed"]
    assert run["status"] == "Passed"
    base = f"/api/v3/projects/{project_id}/test-runs/{run['id']}/test-logs"
    listed = client.get(base).json()
    assert listed["total"] == 2
    assert client.get(f"{base}/{run['logs'][0]['id']}").json()["status"]["name"] == "Failed"
    # a match in another cycle gives a new run for the same test case (docs/servers/qtest.md §4.1)
    other = client.post(f"/api/v3/projects/{project_id}/test-cycles", json={"name": "Other"})
    wait_job(client, submit(client, project_id, other.json()["id"], [entry("test_x")])["id"])
    snap = emu.snapshot()
    assert len(snap["test_cases"]) == 1 and len(snap["test_runs"]) == 2


def test_bad_body_fails_the_job_and_lands_nothing(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    missing = entry("test_missing")
    del missing["module_names"], missing["exe_end_date"]
    logs = [entry("test_fine"), entry("test_odd", "PASSSED"), missing]
    job = wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    assert job["state"] == "FAILED"
    content = json.loads(job["content"])
    assert "PASSSED" in content["message"]
    errors = " ".join(e["error"] for e in content["errors"])
    assert "module_names" in errors and "exe_end_date" in errors
    assert {e["index"] for e in content["errors"]} == {1, 2}
    assert emu.snapshot()["test_runs"] == []
    unknown_cycle = wait_job(client, submit(client, project_id, "CL-999", [entry()])["id"])
    assert unknown_cycle["state"] == "FAILED" and "CL-999" in unknown_cycle["content"]


def test_plain_text_failures_option(project_id: int) -> None:
    emu = Emulator(EmulatorConfig(job_delay=0.0, plain_text_failures=True))
    client = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN)
    job = wait_job(client, submit(client, project_id, "CL-1", [entry()])["id"])
    assert job["state"] == "FAILED" and job["content"].startswith("Test cycle 'CL-1'")


def test_http_errors_of_the_submission(client: httpx.Client, project_id: int) -> None:
    path = f"/api/v3/projects/{project_id}/auto-test-logs"
    body = {"test_cycle": "CL-1", "test_logs": [entry()]}
    assert client.post(path, params={"type": "jenkins"}, json=body).status_code == 400
    not_json = client.post(
        path,
        params={"type": "automation"},
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and "message" in not_json.json()


def test_body_over_the_limit_is_413(project_id: int) -> None:
    emu = Emulator(EmulatorConfig(max_body_bytes=2000))
    client = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL, headers=TOKEN)
    big = [entry(attachments=[attachment("big.bin", b"x" * 3000)])]
    response = client.post(
        f"/api/v3/projects/{project_id}/auto-test-logs",
        params={"type": "automation"},
        json={"test_cycle": "CL-1", "test_logs": big},
    )
    assert response.status_code == 413
    assert "limit" in response.json()["message"]
    assert emu.snapshot()["jobs"] == []


def test_run_listing_pages_and_finds_by_automation_content(
    client: httpx.Client, project_id: int, cycle: dict[str, Any]
) -> None:
    logs = [entry(f"test_{n:02d}") for n in range(7)]
    wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    base = f"/api/v3/projects/{project_id}/test-runs"
    params: dict[str, Any] = {
        "parentId": cycle["id"],
        "parentType": "test-cycle",
        "expand": "descendants",
        "pageSize": 3,
    }
    seen = []
    for page in (1, 2, 3):
        body = client.get(base, params={**params, "page": page}).json()
        assert (body["page"], body["page_size"], body["total"]) == (page, 3, 7)
        seen += [r["name"] for r in body["items"]]
    assert seen == [f"test_{n:02d}" for n in range(7)]
    # without descendants the parent cycle itself holds no run (they sit in sub-cycles)
    flat = client.get(base, params={"parentId": cycle["id"], "parentType": "test-cycle"})
    assert flat.json()["total"] == 0
    item = client.get(base, params={**params, "pageSize": 1}).json()["items"][0]
    props = {p["field_name"]: p for p in item["properties"]}
    assert props["Automation Content"]["field_value"] == "tests/test_mod.py::test_00"
    assert props["Status"]["field_value_name"] == "Passed"
    found = client.post(
        f"/api/v3/projects/{project_id}/search",
        json={
            "object_type": "test-runs",
            "fields": ["*"],
            "query": "'Automation Content' = 'tests/test_mod.py::test_03'",
        },
    ).json()
    assert found["total"] == 1 and found["items"][0]["name"] == "test_03"
    bad = client.post(
        f"/api/v3/projects/{project_id}/search",
        json={"object_type": "test-runs", "query": "'Colour' = 'red'"},
    )
    assert bad.status_code == 400 and "Colour".lower() in bad.json()["message"]
    assert client.get(base, params={"page": 0}).status_code == 400
