"""Defect links on test logs in the qTest emulator (docs/servers/qtest.md §7.1–§7.3)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from qtest_emulator_helpers import entry, submit, wait_job

from tmupload.targets.qtest.emulator import Emulator


@pytest.fixture
def log_id(client: httpx.Client, project_id: int, cycle: dict[str, Any]) -> int:
    """The id of one failed log, found the way docs/servers/qtest.md §7.4 says: run listing, then
    last-run."""
    wait_job(client, submit(client, project_id, cycle["id"], [entry("test_bad", "FAIL")])["id"])
    runs = client.get(
        f"/api/v3/projects/{project_id}/test-runs",
        params={"parentId": cycle["id"], "parentType": "test-cycle", "expand": "descendants"},
    ).json()["items"]
    last = client.get(f"/api/v3/projects/{project_id}/test-runs/{runs[0]['id']}/test-logs/last-run")
    return int(last.json()["id"])


def links_of(client: httpx.Client, project_id: int, log_id: int) -> list[str]:
    response = client.get(
        f"/api/v3/projects/{project_id}/linked-artifacts",
        params={"type": "test-logs", "ids": log_id},
    )
    assert response.status_code == 200, response.text
    (container,) = response.json()
    assert container["id"] == log_id
    return [obj["pid"] for obj in container["objects"]]


def test_link_known_defects_and_read_them_back(
    client: httpx.Client, emu: Emulator, project_id: int, log_id: int
) -> None:
    path = f"/api/v3/projects/{project_id}/test-logs/{log_id}/defects"
    response = client.post(path, json=["PAY-17", "demo-2"])
    assert response.status_code == 201
    (container,) = response.json()
    assert [o["external_defect_id"] for o in container["objects"]] == ["PAY-17", "DEMO-2"]
    assert links_of(client, project_id, log_id) == ["PAY-17", "DEMO-2"]
    # linking again does not duplicate
    assert client.post(path, json=["PAY-17"]).status_code == 201
    assert emu.snapshot()["test_runs"][0]["logs"][0]["defects"] == ["PAY-17", "DEMO-2"]
    by_defect = client.get(
        f"/api/v3/projects/{project_id}/linked-artifacts",
        params={"type": "defects", "pids": "PAY-17"},
    ).json()
    assert by_defect[0]["objects"] == [{"id": log_id, "link_type": "is_associated_with"}]
    # DELETE with the same body unlinks (docs/servers/qtest.md §7.2)
    removed = client.request("DELETE", path, json=["DEMO-2"])
    assert removed.status_code == 200 and removed.json() == ["DEMO-2"]
    assert links_of(client, project_id, log_id) == ["PAY-17"]


def test_unknown_defect_key_is_rejected_by_name(
    client: httpx.Client, project_id: int, log_id: int
) -> None:
    path = f"/api/v3/projects/{project_id}/test-logs/{log_id}/defects"
    response = client.post(path, json=["PAY-18", "NOPE-404"])
    assert response.status_code == 404
    assert "NOPE-404" in response.json()["message"]
    assert links_of(client, project_id, log_id) == []  # all or nothing
    assert client.post(path, json="PAY-18").status_code == 400
    assert (
        client.post(
            f"/api/v3/projects/{project_id}/test-logs/1/defects", json=["PAY-18"]
        ).status_code
        == 404
    )


def test_link_by_internal_id(
    client: httpx.Client, emu: Emulator, project_id: int, log_id: int
) -> None:
    defect_id = client.post(
        f"/api/v3/projects/{project_id}/search",
        json={"object_type": "defects", "query": "'pid' = 'PAY-19'"},
    ).json()["items"][0]["id"]
    response = client.post(
        f"/api/v3/projects/{project_id}/test-logs/{log_id}/link",
        params={"type": "defects"},
        json=[defect_id, 999_999],  # docs/servers/qtest.md §7.3: what cannot be linked is ignored
    )
    assert response.status_code == 200
    assert [o["pid"] for o in response.json()[0]["objects"]] == ["PAY-19"]
    assert links_of(client, project_id, log_id) == ["PAY-19"]


def test_defect_pids_in_the_submission(
    client: httpx.Client, emu: Emulator, project_id: int, cycle: dict[str, Any]
) -> None:
    logs = [entry("test_linked", "FAIL", defect_pids=["PAY-17,PAY-18", "GONE-1"])]
    job = wait_job(client, submit(client, project_id, cycle["id"], logs)["id"])
    assert job["state"] == "SUCCESS"
    linked = json.loads(job["content"])["linkedDefects"]
    assert linked["success"] == ["PAY-17", "PAY-18"]
    assert linked["fail"][0]["pids"] == ["GONE-1"]
    assert emu.snapshot()["test_runs"][0]["logs"][0]["defects"] == ["PAY-17", "PAY-18"]
