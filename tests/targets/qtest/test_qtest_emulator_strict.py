"""Strict mode: runs without Automation Content (docs/servers/qtest.md §7.4, §8), minimal job
content (docs/servers/qtest.md §5), and paging of the run listing and of search
(docs/servers/qtest.md §2).

Each test runs lenient (today's behaviour) and strict (``EmulatorConfig.strict``, or
``POST /_emulator/strict``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from qtest_emulator_helpers import entry, submit, wait_job

from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig

CONTENT = "tests/test_mod.py::test_ok"


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def strict(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def config(strict: bool) -> EmulatorConfig:
    return EmulatorConfig(job_delay=0.0, strict=strict)


def _land(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], count: int = 1
) -> dict[str, Any]:
    """Submit ``count`` logs (the first is ``test_ok``) and wait for the job."""
    logs = [entry()] + [entry(f"test_{n:04d}") for n in range(count - 1)]
    job = wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    assert job["state"] == "SUCCESS", job
    return job


def _listing(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], **params: Any
) -> dict[str, Any]:
    query = {"parentId": cycle["id"], "parentType": "test-cycle", "expand": "descendants"}
    response = client.get(f"/api/v3/projects/{project_id}/test-runs", params={**query, **params})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def _search(client: httpx.Client, project_id: int, body: dict[str, Any], **params: Any) -> Any:
    response = client.post(f"/api/v3/projects/{project_id}/search", params=params, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _names(view: dict[str, Any]) -> set[str]:
    return {p["field_name"] for p in view["properties"]}


# -- test runs (docs/servers/qtest.md §7.4, §8) ----------------------------------------------------


@pytest.mark.parametrize("expand", ["descendants", "descendants,testcase"])
def test_run_listing_shows_automation_content_only_when_lenient(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], strict: bool, expand: str
) -> None:
    _land(client, project_id, cycle)
    response = client.get(
        f"/api/v3/projects/{project_id}/test-runs",
        params={"parentId": cycle["id"], "parentType": "test-cycle", "expand": expand},
    )
    (run,) = response.json()["items"]
    assert "Status" in _names(run)
    if strict:
        assert CONTENT not in response.text
        assert "Automation Content" not in _names(run)
        assert "automation_content" not in run
        assert run["test_case"] == {"id": run["test_case"]["id"]}
    else:
        props = {p["field_name"]: p["field_value"] for p in run["properties"]}
        assert props["Automation Content"] == CONTENT
        if "testcase" in expand:
            assert "Automation Content" in _names(run["test_case"])


def test_one_run_shows_automation_content_only_when_lenient(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], strict: bool
) -> None:
    _land(client, project_id, cycle)
    (listed,) = _listing(client, project_id, cycle)["items"]
    for params in ({}, {"expand": "testcase"}):
        response = client.get(
            f"/api/v3/projects/{project_id}/test-runs/{listed['id']}", params=params
        )
        run = response.json()
        assert run["id"] == listed["id"]
        assert (CONTENT in response.text) is not strict
        assert ("Automation Content" in _names(run)) is not strict
        if strict:
            assert run["test_case"] == {"id": listed["test_case"]["id"]}


def test_test_case_keeps_its_fingerprint(
    client: httpx.Client, project_id: int, cycle: dict[str, Any]
) -> None:
    """docs/servers/qtest.md §4.1: Automation Content is the test case's fingerprint: shown in both
    modes."""
    _land(client, project_id, cycle)
    (run,) = _listing(client, project_id, cycle)["items"]
    case = client.get(f"/api/v3/projects/{project_id}/test-cases/{run['test_case']['id']}").json()
    props = {p["field_name"]: p["field_value"] for p in case["properties"]}
    assert props["Automation Content"] == CONTENT
    query = f"'Automation Content' = '{CONTENT}'"
    found = _search(
        client, project_id, {"object_type": "test-cases", "fields": ["*"], "query": query}
    )
    assert found["total"] == 1
    props = {p["field_name"]: p["field_value"] for p in found["items"][0]["properties"]}
    assert props["Automation Content"] == CONTENT


def test_searched_runs_follow_the_mode(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], strict: bool
) -> None:
    _land(client, project_id, cycle)
    found = _search(client, project_id, {"object_type": "test-runs", "fields": ["*"]})
    (run,) = found["items"]
    assert ("Automation Content" in _names(run)) is not strict


# -- the queue job (docs/servers/qtest.md §5) ------------------------------------------------------


def test_finished_job_content_is_minimal_when_strict(
    client: httpx.Client, project_id: int, cycle: dict[str, Any], strict: bool
) -> None:
    job = _land(client, project_id, cycle, count=2)
    content = json.loads(job["content"])
    if strict:
        assert content == {}
    else:
        assert content["totalTestLogs"] == 2
        assert {"testRunId", "testLogId"} <= set(content["testLogs"][0])


def test_failed_job_still_says_why(
    client: httpx.Client, project_id: int, cycle: dict[str, Any]
) -> None:
    job = wait_job(client, submit(client, project_id, "CL-999", [entry()])["id"])
    assert job["state"] == "FAILED" and "CL-999" in json.loads(job["content"])["message"]


# -- paging (docs/servers/qtest.md §2: page 1-based, pageSize up to 999) ---------------------------


def test_search_honours_page_and_page_size(
    client: httpx.Client, project_id: int, cycle: dict[str, Any]
) -> None:
    _land(client, project_id, cycle, count=7)
    body = {"object_type": "test-runs", "fields": ["*"]}
    seen: list[str] = []
    for page in (1, 2, 3):
        found = _search(client, project_id, body, page=page, pageSize=3)
        assert (found["page"], found["page_size"], found["total"]) == (page, 3, 7)
        seen += [item["name"] for item in found["items"]]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert _search(client, project_id, body, page=4, pageSize=3)["items"] == []
    # docs/servers/qtest.md §2: the default
    assert _search(client, project_id, body)["page_size"] == 100
    bad = client.post(f"/api/v3/projects/{project_id}/search", params={"page": 0}, json=body)
    assert bad.status_code == 400


def test_page_size_is_cut_to_999(
    client: httpx.Client, project_id: int, cycle: dict[str, Any]
) -> None:
    _land(client, project_id, cycle, count=1001)
    listed = _listing(client, project_id, cycle, pageSize=5000)
    assert (listed["page_size"], listed["total"], len(listed["items"])) == (999, 1001, 999)
    rest = _listing(client, project_id, cycle, pageSize=5000, page=2)
    assert len(rest["items"]) == 2
    body = {"object_type": "test-cases", "fields": ["id"]}
    found = _search(client, project_id, body, pageSize=1000)
    assert (found["page_size"], found["total"], len(found["items"])) == (999, 1001, 999)


# -- switching (config field, control route, reset) ------------------------------------------


def test_strict_is_switched_by_the_control_route(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any], strict: bool
) -> None:
    control = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url="http://q.test")
    assert control.get("/_emulator/strict").json() == {"strict": strict}
    _land(client, project_id, cycle)
    switched = control.post("/_emulator/strict", json={"strict": not strict})
    assert switched.json() == {"strict": not strict} and emu.strict is not strict
    (run,) = _listing(client, project_id, cycle)["items"]
    assert ("Automation Content" in _names(run)) is strict  # the switched mode
    assert control.post("/_emulator/strict", json={}).status_code == 400
    assert control.post("/_emulator/strict", json={"strict": 1}).status_code == 400
    assert control.put("/_emulator/strict").status_code == 405
    control.post("/_emulator/reset").raise_for_status()
    assert emu.strict is strict  # reset goes back to EmulatorConfig.strict
