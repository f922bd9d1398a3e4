"""Fixtures for the qTest emulator tests: an in-process client, the Demo project, a cycle."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from qtest_emulator_helpers import BASE_URL, TOKEN

from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(job_delay=0.0)


@pytest.fixture
def emu(config: EmulatorConfig) -> Emulator:
    return Emulator(config)


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url=BASE_URL, headers=TOKEN) as http:
        yield http


@pytest.fixture
def project_id(client: httpx.Client) -> int:
    projects = client.get("/api/v3/projects").json()
    return int(next(p["id"] for p in projects if p["name"] == "Demo"))


@pytest.fixture
def cycle(client: httpx.Client, project_id: int) -> dict[str, Any]:
    """A parent test cycle ``Automation`` under the root."""
    response = client.post(
        f"/api/v3/projects/{project_id}/test-cycles",
        params={"parentId": 0, "parentType": "root"},
        json={"name": "Automation"},
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data
