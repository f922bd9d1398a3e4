"""Request builders shared by the Zephyr emulator tests (imported by name: a unique module)."""

from __future__ import annotations

from typing import Any

import httpx

BASE_URL = "http://ze.test/flex/services/rest/latest"
TOKEN = {"Authorization": "Bearer demo-token"}


def ok(response: httpx.Response) -> Any:
    assert response.is_success, (response.status_code, response.text)
    return response.json()


class Flow:
    """The uploader's steps (ref "What an uploader must do"), one call each."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.user_id: int = ok(client.get("/user/current"))["id"]
        project = next(p for p in ok(client.get("/project")) if p["name"] == "Demo")
        self.project_id: int = project["id"]
        releases = ok(client.get(f"/release/project/{self.project_id}"))
        self.release_id: int = releases[0]["id"]

    def folder(self, name: str, parent: int = 0) -> dict[str, Any]:
        kind = "Phase" if parent == 0 else "Module"
        body = {"name": name, "description": "", "type": kind, "releaseId": self.release_id}
        data: dict[str, Any] = ok(
            self.client.post("/testcasetree", params={"parentid": parent}, json=body)
        )
        return data

    def case(self, folder_id: int, name: str, **extra: Any) -> dict[str, Any]:
        """One bulk-create item as the plugin sends it (docs/servers/zephyr.md §5.3); ``extra``
        overrides."""
        testcase = {
            "name": name,
            "description": "",
            "tag": "",
            "projectId": self.project_id,
            "releaseId": self.release_id,
            "automated": True,
            "scriptName": "tmupload",
            "customProperties": {},
        }
        testcase.update(extra)
        return {"tcrCatalogTreeId": folder_id, "testcase": testcase}

    def create_cases(self, folder_id: int, names: list[str]) -> list[dict[str, Any]]:
        body = [self.case(folder_id, name) for name in names]
        created: list[dict[str, Any]] = ok(self.client.post("/testcase/bulk", json=body))
        return created

    def cycle(self, name: str = "Automation") -> dict[str, Any]:
        body = {
            "name": name,
            "build": "",
            "environment": "",
            "status": 0,
            "cycleStartDate": "04/01/2026",
            "cycleEndDate": "04/30/2026",
            "releaseId": self.release_id,
        }
        data: dict[str, Any] = ok(self.client.post("/cycle", json=body))
        return data

    def phase(self, cycle_id: int, name: str = "run 1") -> dict[str, Any]:
        body = {
            "name": name,
            "cycleId": cycle_id,
            "releaseId": self.release_id,
            "freeForm": True,
            "startDate": 1775000000000,
            "endDate": 1775000000000,
        }
        data: dict[str, Any] = ok(self.client.post(f"/cycle/{cycle_id}/phase", json=body))
        return data

    def add_to_phase(self, phase: dict[str, Any], folder_id: int, tct_ids: list[int]) -> Any:
        url = f"/assignmenttree/{phase['id']}/assign/bytree/{phase['tcrCatalogTreeId']}"
        body = [{"treeid": folder_id, "tctIds": tct_ids, "isExclusion": False}]
        return ok(self.client.post(url, params={"includehierarchy": "false"}, json=body))

    def assign(self, phase_id: int) -> Any:
        return ok(self.client.post(f"/assignmenttree/{phase_id}/assign"))

    def executions(self, phase_id: int, pagesize: int = 100) -> list[dict[str, Any]]:
        """Every execution of a phase, paging by ``resultSize``."""
        found: list[dict[str, Any]] = []
        while True:
            params = {"cyclephaseid": phase_id, "offset": len(found), "pagesize": pagesize}
            page = ok(self.client.get("/execution", params=params))
            found.extend(page["results"])
            if not page["results"] or len(found) >= page["resultSize"]:
                return found

    def ready_phase(self, names: list[str]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """A folder with ``names``, a cycle, a phase with them assigned: (phase, executions)."""
        root = self.folder("Automation")
        tcts = self.create_cases(root["id"], names)
        cycle = self.cycle()
        phase = self.phase(cycle["id"])
        self.add_to_phase(phase, root["id"], [t["id"] for t in tcts])
        self.assign(phase["id"])
        return phase, self.executions(phase["id"])
