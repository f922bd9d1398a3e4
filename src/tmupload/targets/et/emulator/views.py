"""Entities as the API shows them: PascalCase JSON with absolute ``Self`` URLs
(docs/servers/et.md §2.2).

Every function takes ``root`` (``scheme://host`` plus the application path) and returns a
JSON-ready dict. Field lists follow the reference section named in each docstring;
``Expands`` lists what may still be expanded, and an expanded property drops out of it
(docs/servers/et.md §2.8).
"""

from __future__ import annotations

from typing import Any

from .attachments import Attachment, AttachmentStore
from .entities import (
    Assignment,
    AutomatedTest,
    Incident,
    Link,
    Package,
    Project,
    ResultNode,
    Run,
    Task,
    Ticket,
    totals_of,
)
from .protocol import format_time
from .state import State

__all__ = [
    "assignment_json",
    "attachment_json",
    "incident_json",
    "link_json",
    "node_incident_json",
    "node_json",
    "package_json",
    "project_json",
    "run_json",
    "task_json",
    "test_json",
    "ticket_json",
]

JsonDict = dict[str, Any]

_PROJECT_EXPANDS = [
    "TimeTrackingConfiguration",
    "ProjectCategory",
    "Statuses",
    "Priorities",
    "RequirementTypes",
    "RequirementStatuses",
    "RequirementDifficulties",
    "IncidentTypes",
    "TestTypes",
    "IncidentResolutions",
    "IncidentStatuses",
    "Versions",
    "Components",
    "ExecutionPackages",
    "ScriptPackages",
    "RequirementPackages",
    "ExternalSystemLinks",
    "Widgets",
]


def _remaining(expands: list[str], expanded: set[str]) -> list[str]:
    return [name for name in expands if name.lower() not in expanded]


def _slug(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())[:10]


def project_json(root: str, state: State, project: Project, expand: set[str]) -> JsonDict:
    """docs/servers/et.md §6.1 (item fields of the projects example)."""
    data: JsonDict = {
        "Id": project.id,
        "Name": project.name,
        "OrganisationId": None,
        "OrganisationName": None,
        "ProjectCategoryId": None,
        "ProjectCategoryName": None,
        "Description": None,
        "EstimatedEndDate": None,
        "ManagerId": None,
        "ManagerUserName": None,
        "Slug": _slug(project.name),
        "AutoNumberRequirements": False,
        "AutoNumberScripts": False,
        "Independent": False,
        "RequirementNumberReadOnly": False,
        "ScriptNumberReadOnly": False,
        "OrderNumber": project.order,
        "StartDate": None,
        "Expands": _remaining(_PROJECT_EXPANDS, expand),
        "Self": f"{root}/api/project/{project.id}",
    }
    if "externalsystemlinks" in expand:
        data["ExternalSystemLinks"] = [
            link_json(root, state, link) for link in state.project_links(project.id)
        ]
    return data


def link_json(root: str, state: State, link: Link) -> JsonDict:
    """docs/servers/et.md §8.1 (the 6.x example item)."""
    project = state.projects[link.project_id]
    return {
        "ExternalSystemId": link.system_id,
        "ProjectId": link.project_id,
        "ProjectName": project.name,
        "Id": link.id,
        "Type": "Incident",
        "TypeForDisplay": "Incident",
        "ExternalSystemName": link.system_name,
        "ExternalSystemImplementationType": "Jira",
        "ExternalSystemConnectionType": None,
        "Name": link.name,
        "Enabled": True,
        "LastSynchronizedAt": None,
        "LastDestinationToSourceSynchronizationAt": None,
        "LastSourceToDestinationSynchronizationAt": None,
        "ConfigurationComplete": True,
        "ConfigurationProblems": [],
        "AutoSelect": "NotApplicable",
        "Expands": ["Configuration", "ExternalSystem"],
        "Self": f"{root}/api/externalsystemlink/{link.id}",
    }


def ticket_json(root: str, state: State, ticket: Ticket) -> JsonDict:
    """docs/servers/et.md §8.2: ``ExternalSystemId`` holds the external system *link* id."""
    link = state.links[ticket.link_id]
    self_url = f"{root}/api/externalsystemlink/{link.id}/ticket/{ticket.id}"
    return {
        "Key": ticket.key,
        "Summary": f"Emulated ticket {ticket.key}",
        "Url": ticket.url,
        "Id": ticket.id,
        "Type": "Bug",
        "ExternalSystemId": link.id,
        "ExternalSystemName": link.system_name,
        "IncidentId": ticket.incident_id,
        "Status": "Open",
        "InternalKey": None,
        "Expands": ["ExternalSystem"],
        "Self": self_url,
        "Links": [
            {"Href": f"{self_url}/link", "Rel": "StartCreateIncident"},
            {"Href": f"{root}/api/externalsystemlink/{link.id}", "Rel": "ExternalSystemLink"},
        ],
    }


def incident_json(root: str, state: State, incident: Incident) -> JsonDict:
    """[inference] A minimal incident: the reference does not document the resource."""
    return {
        "Id": incident.id,
        "ProjectId": incident.project_id,
        "Summary": f"Emulated ticket {incident.ticket_key}",
        "ExternalSystemLinkId": incident.link_id,
        "TicketId": incident.ticket_id,
        "TicketKey": incident.ticket_key,
        "CreatedAt": format_time(incident.created_at),
        "Self": f"{root}/api/incident/{incident.id}",
    }


def package_json(root: str, state: State, package: Package) -> JsonDict:
    """docs/servers/et.md §6.2 / §6.3: execution packages also carry ``"Stereotype": "Package"``."""
    resource = f"{package.kind}package"
    self_url = f"{root}/api/{resource}/{package.id}"
    data: JsonDict = {
        "Id": package.id,
        "ProjectId": package.project_id,
        "ParentId": package.parent_id,
        "Name": package.name,
        "OrderNumber": package.order,
    }
    expands = ["Children", "Parent", "Project"]
    if package.kind == "execution":
        data["Stereotype"] = "Package"
        expands.append("AutomatedTestAssignments")
    else:
        expands.append("Scripts")
    links = [
        {"Href": f"{self_url}/children", "Rel": "Children"},
        {"Href": f"{root}/api/project/{package.project_id}", "Rel": "Project"},
    ]
    if package.parent_id is not None:
        links.append({"Href": f"{root}/api/{resource}/{package.parent_id}", "Rel": "Parent"})
    data.update({"Expands": expands, "Self": self_url, "Links": links})
    return data


def test_json(root: str, state: State, test: AutomatedTest, expand: set[str]) -> JsonDict:
    """docs/servers/et.md §4.2 (the example item)."""
    package = state.packages[test.package_id]
    user = test.created_by
    created = format_time(test.created_at)
    data: JsonDict = {
        "Id": test.id,
        "Type": test.type,
        "Name": test.name,
        "CreatedAt": created,
        "LastUpdatedAt": created,
        "CreatedById": user.id,
        "CreatedBy": user.login,
        "LastUpdatedById": user.id,
        "LastUpdatedBy": user.login,
        "AssignedToId": None,
        "AssignedTo": None,
        "PackageId": test.package_id,
        "ProjectId": test.project_id,
        "ProjectName": state.projects[test.project_id].name,
        "PackageName": package.name,
        "OrderNumber": test.order,
        "Expands": _remaining(["Assignments", "Configuration"], expand),
        "Self": f"{root}/api/automatedtest/{test.id}",
        "Links": [
            {"Href": f"{root}/api/automatedtest/{test.id}/assignments", "Rel": "Assignments"}
        ],
    }
    if "configuration" in expand:
        data["Configuration"] = dict(test.configuration)
    if "assignments" in expand:
        data["Assignments"] = [
            assignment_json(root, state, a, set())
            for a in state.assignments.values()
            if a.test_id == test.id
        ]
    return data


def assignment_json(root: str, state: State, assignment: Assignment, expand: set[str]) -> JsonDict:
    """docs/servers/et.md §4.3 (example item; ``Status`` is "Not Run" with a space until a run
    exists)."""
    test = state.tests[assignment.test_id]
    self_url = f"{root}/api/automatedtestassignment/{assignment.id}"
    data: JsonDict = {
        "Id": assignment.id,
        "AutomatedTestId": assignment.test_id,
        "Name": test.name,
        "Status": state.assignment_status(assignment),
        "AssignedTo": None,
        "AssignedToId": None,
        "PackageId": assignment.package_id,
        "Expands": _remaining(["Package", "Runs", "Totals", "AutomatedTest"], expand),
        "Self": self_url,
        "Links": [
            {"Href": f"{self_url}/runs", "Rel": "Runs"},
            {"Href": f"{root}/api/executionpackage/{assignment.package_id}", "Rel": "Package"},
            {"Href": f"{root}/api/automatedtest/{assignment.test_id}", "Rel": "AutomatedTest"},
        ],
    }
    if "package" in expand:
        data["Package"] = package_json(root, state, state.packages[assignment.package_id])
    if "automatedtest" in expand:
        data["AutomatedTest"] = test_json(root, state, test, set())
    runs = state.runs_of(assignment.id)
    if "runs" in expand:
        data["Runs"] = [run_json(root, state, run, set()) for run in runs]
    if "totals" in expand:
        data["Totals"] = totals_of(runs[-1]) if runs else None
    return data


def run_json(root: str, state: State, run: Run, expand: set[str]) -> JsonDict:
    """docs/servers/et.md §5.1 / §5.2 (model ``AutomatedTestRun``)."""
    self_url = f"{root}/api/automatedtestrun/{run.id}"
    assignment_url = f"{root}/api/automatedtestassignment/{run.assignment_id}"
    data: JsonDict = {
        "RunByDisplayName": run.run_by.login,
        "RunBy": run.run_by.login,
        "RunById": run.run_by.id,
        "AssignmentId": run.assignment_id,
        "Id": run.id,
        "Status": run.status,
        "ImportedAt": format_time(run.imported_at),
        "StartedAt": format_time(run.started_at),
        "FinishedAt": format_time(run.finished_at),
        "Expands": _remaining(["Totals", "Assignment"], expand),
        "Self": self_url,
        "Links": [
            {"Href": f"{self_url}/nodes", "Rel": "Nodes"},
            {"Href": assignment_url, "Rel": "Assignment"},
        ],
    }
    if "totals" in expand:
        data["Totals"] = totals_of(run)
    if "assignment" in expand:
        assignment = state.assignments[run.assignment_id]
        data["Assignment"] = assignment_json(root, state, assignment, set())
    return data


def node_json(
    root: str,
    run: Run,
    node: ResultNode,
    *,
    with_children: bool = False,
    attachments: AttachmentStore | None = None,
) -> JsonDict:
    """docs/servers/et.md §5.3 ``ResultNode``, exactly its fields; ``Children`` (one level) only on
    request.

    ``HasAttachments`` is true once the node has an attachment (docs/servers/et.md §5.4) in
    ``attachments``.
    """
    has_attachments = attachments is not None and attachments.has(run.id, node.id)
    data: JsonDict = {
        "HasAttachments": has_attachments,
        "HasIncidents": bool(node.incident_ids),
        "HasChildren": bool(node.children),
        "Id": node.id,
        "Name": node.name,
        "Description": node.description,
        "Notes": node.notes,
        "Status": node.status,
        "Iteration": 0,  # [inference] JUnit results have no iterations
        "StartedAt": format_time(node.started_at),
        "FinishedAt": format_time(node.finished_at),
        "DurationInSeconds": node.duration,
        "Expands": [] if with_children else ["Children"],
        "Metadata": dict(node.metadata),
        "Parameters": {},
        "Self": f"{root}/api/automatedtestrun/{run.id}/node/{node.id}",
    }
    if with_children:
        data["Children"] = [
            node_json(root, run, child, attachments=attachments) for child in node.children
        ]
    return data


def attachment_json(root: str, attachment: Attachment) -> JsonDict:
    """docs/servers/et.md §5.4: one item of a run's or node's attachments (node items add
    ``NodeId``).

    [inference] ``NodeId`` follows ``RunId``; the ``Self`` of a node attachment is the path
    its DELETE uses.
    """
    run_url = f"{root}/api/automatedtestrun/{attachment.run_id}"
    data: JsonDict = {"RunId": attachment.run_id}
    if attachment.node_id is not None:
        data["NodeId"] = attachment.node_id
        self_url = f"{run_url}/node/{attachment.node_id}/attachment/{attachment.id}"
    else:
        self_url = f"{run_url}/attachment/{attachment.id}"
    data.update(
        {
            "Id": attachment.id,
            "Name": attachment.name,
            "FileName": attachment.file_name,
            "ContentType": attachment.content_type,
            "CreatedAt": format_time(attachment.created_at),
            "CreatedById": attachment.created_by_id,
            "Size": attachment.size,
            "Self": self_url,
            "Content": f"{root}/api/attachment/{attachment.id}/contents",
        }
    )
    return data


def node_incident_json(root: str, run: Run, node: ResultNode, incident_id: str) -> JsonDict:
    """docs/servers/et.md §5.5 (one item of the node's incidents)."""
    return {
        "RunId": run.id,
        "NodeId": node.id,
        "IncidentId": incident_id,
        "Expands": ["Run", "Node", "Incident"],
        "Self": f"{root}/api/automatedtestrun/{run.id}/node/{node.id}/incident/{incident_id}",
    }


def task_json(root: str, task: Task) -> JsonDict:
    """docs/servers/et.md §7.2 ``BackgroundTask``; keys in the order of §7's examples.

    A running task shows exactly the tasks page's keys; a finished one adds ``FinishedAt``, an
    ``Error`` when it failed, and ``IncidentId`` plus a ``Links`` entry when it created or
    found an incident (docs/servers/et.md §8.3: "an extra value IncidentId" [inference: at the top
    level]).
    """
    data: JsonDict = {"Complete": task.complete}
    if task.error is not None and task.complete:
        data["Error"] = task.error
    data["TotalElements"] = task.total
    data["ProcessedElements"] = task.processed
    data["StartedAt"] = format_time(task.started_at)
    if task.finished_at is not None:
        data["FinishedAt"] = format_time(task.finished_at)
    data["ProgressInPercent"] = task.progress
    data["Id"] = task.id
    data["Message"] = task.message
    data["Self"] = f"{root}/api/backgroundtask/{task.id}"
    if task.complete and task.incident_id is not None:
        data["IncidentId"] = task.incident_id
        data["Links"] = [{"Href": f"{root}/api/incident/{task.incident_id}", "Rel": "Incident"}]
    return data
