"""Ticket linking (docs/servers/et.md §7, §7.3, §8) and the life of background tasks
(docs/servers/et.md §7.2)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tmupload.emulation import ManualClock
from tmupload.targets.et.emulator import Emulator, EmulatorConfig, TrackerLink

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import Et

    MakeEt = Callable[[Emulator], Et]

LINK = "LinkTicketToAutomatedTestRunResultNode"
BASE_URL = "http://et.test/EnterpriseTester"


def _failing_node(et: Et) -> tuple[str, dict[str, Any]]:
    placement = et.placement()
    run = et.import_run(placement.assignment_id, et.junit(("test_pay", "failed")))
    return run["Id"], et.leaf(run["Id"], "test_pay")


def _link(et: Et, run_id: str, node_id: str, key: str, **extra: str) -> httpx.Response:
    parameters = {"AutomatedTestRunId": run_id, "ResultNodeId": node_id, "Key": key, **extra}
    return et.client.post("/api/backgroundtasks", json={"Type": LINK, "Parameters": parameters})


def test_link_task_answers_like_the_seed_and_creates_the_incident(emu: Emulator, et: Et) -> None:
    run_id, node = _failing_node(et)
    accepted = _link(et, run_id, node["Id"], "PAY-17")
    assert accepted.status_code == 202
    body = accepted.json()
    assert list(body) == [
        "Complete",
        "TotalElements",
        "ProcessedElements",
        "StartedAt",
        "ProgressInPercent",
        "Id",
        "Message",
        "Self",
    ]
    assert (body["Complete"], body["TotalElements"], body["ProcessedElements"]) == (False, 3, 2)
    assert (body["ProgressInPercent"], body["Message"]) == (0.67, "Creating link")
    prefix = "linktickettoautomatedtestrunresultnode_"
    assert body["Id"].startswith(prefix) and uuid.UUID(body["Id"].removeprefix(prefix))
    assert body["Self"] == f"{BASE_URL}/api/backgroundtask/{body['Id']}"
    # the seed's quirk: no /backgroundtask/ segment in Location
    assert accepted.headers["Location"] == f"{BASE_URL}/api/{body['Id']}"

    done = et.wait(body["Self"])
    assert "Error" not in done and done["ProgressInPercent"] == 1.0
    linked = et.client.get(node["Self"]).json()
    assert linked["HasIncidents"] is True
    items = et.client.get(f"{node['Self']}/incidents").json()["Items"]
    assert [(i["RunId"], i["NodeId"]) for i in items] == [(run_id, node["Id"])]
    assert items[0]["IncidentId"] == done["IncidentId"]
    (incident,) = emu.snapshot()["incidents"]
    assert (incident["Id"], incident["TicketKey"]) == (done["IncidentId"], "PAY-17")


def test_link_task_500s_when_the_ticket_is_unknown(et: Et) -> None:
    run_id, node = _failing_node(et)
    answer = _link(et, run_id, node["Id"], "NOPE-1")
    assert answer.status_code == 500
    assert "NOPE-1" in answer.json()["Message"]


def test_link_task_500s_when_already_linked_and_reuses_the_incident(emu: Emulator, et: Et) -> None:
    run_id, node = _failing_node(et)
    first = _link(et, run_id, node["Id"], "PAY-18")
    again_while_running = _link(et, run_id, node["Id"], "PAY-18")
    assert again_while_running.status_code == 500
    incident_id = et.wait(first.json()["Self"])["IncidentId"]
    again = _link(et, run_id, node["Id"], "PAY-18")
    assert again.status_code == 500
    assert "already linked" in again.json()["Message"]
    # another node, same ticket: the existing incident is reused, not duplicated
    second = et.import_run(emu.snapshot()["assignments"][0]["Id"], et.junit(("test_pay", "failed")))
    other = et.leaf(second["Id"], "test_pay")
    done = et.wait(_link(et, second["Id"], other["Id"], "PAY-18").json()["Self"])
    assert done["IncidentId"] == incident_id
    assert len(emu.snapshot()["incidents"]) == 1


def test_link_task_validates_its_parameters(et: Et) -> None:
    run_id, node = _failing_node(et)
    no_key = et.client.post(
        "/api/backgroundtasks",
        json={
            "Type": LINK,
            "Parameters": {"AutomatedTestRunId": run_id, "ResultNodeId": node["Id"]},
        },
    )
    assert no_key.status_code == 403 and "Key" in no_key.json()["Message"]
    unknown = str(uuid.uuid4())
    assert _link(et, unknown, node["Id"], "PAY-17").status_code == 404
    assert _link(et, run_id, unknown, "PAY-17").status_code == 404


def test_ambiguous_key_needs_the_external_system_link_id(et_for: MakeEt) -> None:
    config = EmulatorConfig(
        external_systems={
            "Demo": [
                TrackerLink("Jira", ["PAY-17", "DEMO-1"]),
                TrackerLink("Jira EU", ["PAY-17", "EU-9"], system_name="Jira EU"),
            ]
        }
    )
    emu = Emulator(config)
    et = et_for(emu)
    run_id, node = _failing_node(et)
    ambiguous = _link(et, run_id, node["Id"], "PAY-17")
    assert ambiguous.status_code == 500
    assert "ExternalSystemLinkId" in ambiguous.json()["Message"]
    assert _link(et, run_id, node["Id"], "EU-9").status_code == 202  # only in one tracker
    links = et.client.get("/api/externalsystemlinks").json()["Items"]
    eu = next(link["Id"] for link in links if link["Name"] == "Jira EU")
    jira = next(link["Id"] for link in links if link["Name"] == "Jira")
    chosen = _link(et, run_id, node["Id"], "PAY-17", ExternalSystemLinkId=eu)
    assert chosen.status_code == 202
    et.wait(chosen.json()["Self"])
    # the key is not in the given tracker
    assert _link(et, run_id, node["Id"], "EU-9", ExternalSystemLinkId=jira).status_code == 500
    incidents = emu.snapshot()["incidents"]
    assert sorted((i["TicketKey"], i["ExternalSystemLinkId"]) for i in incidents) == sorted(
        [("EU-9", eu), ("PAY-17", eu)]
    )


def test_legacy_server_does_not_know_the_link_task(et_for: MakeEt) -> None:
    legacy = et_for(Emulator(EmulatorConfig(legacy_server=True)))
    run_id, node = _failing_node(legacy)
    answer = _link(legacy, run_id, node["Id"], "PAY-17")
    assert answer.status_code == 500
    assert answer.json()["Message"] == (
        "No background task type named 'LinkTicketToAutomatedTestRunResultNode' is registered"
    )
    # the documented incident path still works there
    project = legacy.project_id()
    tickets = legacy.client.get(f"/api/project/{project}/tickets", params={"q": "PAY-17"})
    (ticket,) = tickets.json()["Items"]
    start = next(link["Href"] for link in ticket["Links"] if link["Rel"] == "StartCreateIncident")
    incident_id = legacy.wait(legacy.client.post(start).json()["Self"])["IncidentId"]
    linked = legacy.client.post(f"{node['Self']}/incidents", json={"IncidentId": incident_id})
    assert linked.status_code == 201
    assert legacy.client.get(node["Self"]).json()["HasIncidents"] is True


def test_reindex_is_accepted_and_unknown_types_are_500(et: Et) -> None:
    reindex = et.client.post(
        "/api/backgroundtasks", json={"Type": "Reindex", "Parameters": {"Optimize": True}}
    )
    assert reindex.status_code == 202
    assert reindex.headers["Location"] == f"{BASE_URL}/api/backgroundtask/{reindex.json()['Id']}"
    assert reindex.json()["Id"].startswith("reindex-")
    assert et.wait(reindex.json()["Self"])["Complete"] is True
    unknown = et.client.post("/api/backgroundtasks", json={"Type": "MakeCoffee", "Parameters": {}})
    assert unknown.status_code == 500 and "MakeCoffee" in unknown.json()["Message"]


def test_documented_incident_path(emu: Emulator, et: Et) -> None:
    run_id, node = _failing_node(et)
    project = et.project_id()
    found = et.client.get(f"/api/project/{project}/tickets", params={"q": "PAY"}).json()
    assert [t["Key"] for t in found["Items"]] == ["PAY-17", "PAY-18", "PAY-19"]
    ticket = next(t for t in found["Items"] if t["Key"] == "PAY-19")
    assert ticket["IncidentId"] is None and ticket["Id"].isdigit()
    assert ticket["Type"] == "Bug" and ticket["Status"] == "Open"
    link_id = emu.snapshot()["external_system_links"][0]["Id"]
    assert ticket["ExternalSystemId"] == link_id  # the *link* id (docs/servers/et.md §8.2 note)
    assert ticket["Self"] == f"{BASE_URL}/api/externalsystemlink/{link_id}/ticket/{ticket['Id']}"

    started = et.client.post(f"{ticket['Self']}/link")
    assert started.status_code == 202
    assert started.json()["Id"].startswith("ticketlinking_")
    incident_id = et.wait(started.json()["Self"])["IncidentId"]
    again = et.client.get(f"/api/project/{project}/tickets", params={"q": "PAY-19"}).json()
    assert again["Items"][0]["IncidentId"] == incident_id

    incidents_url = f"{node['Self']}/incidents"
    assert et.client.get(incidents_url).json() == {"Items": []}
    created = et.client.post(incidents_url, json={"IncidentId": incident_id})
    assert created.status_code == 201
    assert created.json()["IncidentId"] == incident_id
    assert et.client.get(node["Self"]).json()["HasIncidents"] is True
    unknown = et.client.post(incidents_url, json={"IncidentId": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert et.client.post(incidents_url, json={"Incident": incident_id}).status_code == 400
    # now the single-call task sees the link
    assert _link(et, run_id, node["Id"], "PAY-19").status_code == 500


def test_unknown_ticket_in_the_link_resource_is_403(et: Et, emu: Emulator) -> None:
    link_id = emu.snapshot()["external_system_links"][0]["Id"]
    answer = et.client.post(f"/api/externalsystemlink/{link_id}/ticket/999/link")
    assert answer.status_code == 403
    assert et.client.get(f"/api/externalsystemlink/{link_id}/ticket/999").status_code == 404


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY boom "x">]>'
            b'<testsuite name="s"><testcase name="&boom;"/></testsuite>',
            "DOCTYPE",
        ),
        (b"<testsuite name='s'><testcase name='a'>", "malformed"),
        (b"<html><body/></html>", "root element"),
    ],
)
def test_refused_files_end_the_task_with_an_error_and_no_run(
    emu: Emulator, et: Et, content: bytes, words: str
) -> None:
    placement = et.placement()
    accepted = et.upload(placement.assignment_id, content)
    assert accepted.status_code == 202
    assert accepted.json()["Complete"] is False
    done = et.wait(accepted.json()["Self"])
    assert done["Complete"] is True
    assert words in done["Error"]
    assert emu.snapshot()["runs"] == []
    runs = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}/runs").json()
    assert runs["Items"] == []


def test_completed_tasks_are_flushed_after_the_configured_time(et_for: MakeEt) -> None:
    clock = ManualClock()
    et = et_for(Emulator(EmulatorConfig(import_delay=0.0, task_flush_after=60.0, clock=clock)))
    placement = et.placement()
    task_url = et.upload(placement.assignment_id, et.junit(("a", "passed"))).json()["Self"]
    assert et.client.get(task_url).json()["Complete"] is True
    clock.advance(59.0)
    assert et.client.get(task_url).json()["Complete"] is True  # not yet
    clock.advance(2.0)
    gone = et.client.get(task_url)
    assert gone.status_code == 404 and gone.json()["Message"]
    # the run survived its task
    runs = et.client.get(f"/api/automatedtestassignment/{placement.assignment_id}/runs").json()
    assert runs["Total"] == 1


def test_flush_after_zero_means_gone_once_complete(et_for: MakeEt) -> None:
    clock = ManualClock()
    et = et_for(Emulator(EmulatorConfig(import_delay=5.0, task_flush_after=0.0, clock=clock)))
    placement = et.placement()
    task_url = et.upload(placement.assignment_id, et.junit(("a", "passed"))).json()["Self"]
    assert et.client.get(task_url).json()["Complete"] is False
    clock.advance(5.0)
    assert et.client.get(task_url).status_code == 404
