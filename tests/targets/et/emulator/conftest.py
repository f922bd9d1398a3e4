"""Fixtures for the emulator tests: an in-process client and an ``et`` helper for the flow."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import quoteattr

import httpx
import pytest

from tmupload.targets.et.emulator import Emulator, EmulatorConfig

BASE_URL = "http://et.test/EnterpriseTester"
ADMIN = ("admin", "admin")


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig()


@pytest.fixture
def emu(config: EmulatorConfig) -> Emulator:
    return Emulator(config)


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url=BASE_URL, auth=ADMIN) as http:
        yield http


@dataclass
class Placement:
    project_id: str
    script_package_id: str
    test_id: str
    execution_package_id: str
    assignment_id: str


def junit(*cases: tuple[str, str], suite: str = "pytest", timestamp: str | None = None) -> bytes:
    """A JUnit document with one suite; each case is (name, outcome) with outcome one of
    passed, failed, error, skipped."""
    body = []
    for name, outcome in cases:
        inner = {
            "passed": "",
            "failed": '<failure message="assert 1 == 2" type="AssertionError">trace</failure>',
            "error": '<error message="fixture blew up">setup trace</error>',
            "skipped": '<skipped type="pytest.skip" message="not today"/>',
        }[outcome]
        body.append(
            f'<testcase classname="tests" name={quoteattr(name)} time="0.25">{inner}</testcase>'
        )
    stamp = f" timestamp={quoteattr(timestamp)}" if timestamp else ""
    text = (
        '<?xml version="1.0" encoding="utf-8"?><testsuites>'
        f"<testsuite name={quoteattr(suite)}{stamp}>{''.join(body)}</testsuite></testsuites>"
    )
    return text.encode("utf-8")


class Et:
    """The vendor's upload flow (docs/servers/et.md §9), step by step, against the emulator."""

    junit = staticmethod(junit)

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def project_id(self, name: str = "Demo") -> str:
        found = self.client.get("/api/projects", params={"$filter": f"Name eq '{name}'"})
        assert found.status_code == 200
        items = found.json()["Items"]
        assert len(items) == 1
        return str(items[0]["Id"])

    def create(self, collection: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(f"/api/{collection}", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def placement(self, test_name: str = "pytest suite") -> Placement:
        project = self.project_id()
        script = self.create("scriptpackages", {"ProjectId": project, "Name": "Automated"})
        test = self.create(
            "automatedtests",
            {
                "PackageId": script["Id"],
                "Name": test_name,
                "Type": "UnitTest",
                "Configuration": {"Type": "JUnit"},
            },
        )
        execution = self.create("executionpackages", {"ProjectId": project, "Name": "Cycle 1"})
        assignment = self.create(
            "automatedtestassignments",
            {"PackageId": execution["Id"], "AutomatedTestId": test["Id"]},
        )
        return Placement(project, script["Id"], test["Id"], execution["Id"], assignment["Id"])

    def upload(
        self,
        assignment_id: str,
        content: bytes,
        *,
        part: str = "fileupload",
        filename: str = "results.xml",
        content_type: str = "text/xml",
    ) -> httpx.Response:
        """POST the file as the vendor's curl does: a form part, sent as multipart/mixed."""
        request = self.client.build_request(
            "POST",
            f"/api/automatedtestassignment/{assignment_id}/runs",
            files={part: (filename, content, content_type)},
        )
        request.headers["Content-Type"] = request.headers["Content-Type"].replace(
            "multipart/form-data", "multipart/mixed"
        )
        return self.client.send(request)

    def wait(self, task_url: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = self.client.get(task_url)
            assert response.status_code == 200, response.text
            task = dict(response.json())
            if task["Complete"]:
                return task
            assert time.monotonic() < deadline, f"task never completed: {task}"
            time.sleep(0.01)

    def import_run(self, assignment_id: str, content: bytes) -> dict[str, Any]:
        """Upload, wait for the import task, and return the newest run with its Totals."""
        accepted = self.upload(assignment_id, content)
        assert accepted.status_code == 202, accepted.text
        task = self.wait(accepted.json()["Self"])
        assert "Error" not in task, task
        runs = self.client.get(
            f"/api/automatedtestassignment/{assignment_id}/runs",
            params={"$orderby": "ImportedAt desc", "$top": "1", "$expand": "Totals"},
        ).json()
        return dict(runs["Items"][0])

    def nodes(self, run_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/automatedtestrun/{run_id}/nodes")
        assert response.status_code == 200
        return list(response.json())

    def leaf(self, run_id: str, name: str) -> dict[str, Any]:
        """The leaf with that name, found by walking /children from the roots."""
        pending = self.nodes(run_id)
        while pending:
            node = pending.pop()
            if node["HasChildren"]:
                pending.extend(
                    self.client.get(
                        f"/api/automatedtestrun/{run_id}/node/{node['Id']}/children"
                    ).json()
                )
            elif node["Name"] == name:
                return node
        raise AssertionError(f"no leaf named {name!r}")


@pytest.fixture
def et(client: httpx.Client) -> Et:
    return Et(client)


@pytest.fixture
def et_for() -> Iterator[Callable[[Emulator], Et]]:
    """Build an ``Et`` helper (with its own in-process client) for another emulator."""
    clients: list[httpx.Client] = []

    def make(emulator: Emulator) -> Et:
        transport = httpx.WSGITransport(app=emulator)
        clients.append(httpx.Client(transport=transport, base_url=BASE_URL, auth=ADMIN))
        return Et(clients[-1])

    yield make
    for http in clients:
        http.close()
