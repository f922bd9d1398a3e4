"""Request builders shared by the qTest emulator tests (imported by name: a unique module)."""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx

BASE_URL = "http://acme.qtest.test"
TOKEN = {"Authorization": "Bearer demo-token"}


def entry(
    name: str = "test_ok",
    status: str = "PASS",
    *,
    module: str = "test_mod.py",
    **extra: Any,
) -> dict[str, Any]:
    """One ``AutomationTestLogResource`` for the tree endpoint (docs/servers/qtest.md §4.3)."""
    data: dict[str, Any] = {
        "name": name,
        "automation_content": f"tests/{module}::{name}",
        "module_names": ["tests", module],
        "status": status,
        "exe_start_date": "2025-03-01T10:15:30.000Z",
        "exe_end_date": "2025-03-01T10:15:31.250+00:00",
        "note": f"{name} {status.lower()}",
    }
    data.update(extra)
    return data


def attachment(name: str, data: bytes, content_type: str = "text/plain") -> dict[str, str]:
    return {"name": name, "content_type": content_type, "data": base64.b64encode(data).decode()}


def submit(
    client: httpx.Client, project_id: int, test_cycle: Any, logs: list[dict[str, Any]]
) -> dict[str, Any]:
    response = client.post(
        f"/api/v3/projects/{project_id}/auto-test-logs",
        params={"type": "automation"},
        json={"test_cycle": test_cycle, "test_logs": logs},
    )
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def wait_job(client: httpx.Client, job_id: int, timeout: float = 3.0) -> dict[str, Any]:
    """Poll the job (docs/servers/qtest.md §5) until SUCCESS or FAILED."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v3/projects/queue-processing/{job_id}")
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["state"] in ("SUCCESS", "FAILED"):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
        time.sleep(0.01)
