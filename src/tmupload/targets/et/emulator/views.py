"""Entities as the API shows them: PascalCase JSON with absolute ``Self`` URLs
(docs/servers/et.md §2.2).

Every function takes ``root`` (``scheme://host`` plus the application path) and returns a
JSON-ready dict. Field lists follow the reference section named in each docstring;
``Expands`` lists what may still be expanded, and an expanded property drops out of it
(docs/servers/et.md §2.8). This module shows the catalog (projects, trackers, packages, tests,
assignments, runs); result_views.py shows what hangs below a run, and background tasks.
"""

from __future__ import annotations

from typing import Any

from .entities import Assignment, AutomatedTest, Link, Package, Project, Run, Ticket, totals_of
from .protocol import format_time
from .state import State

__all__ = [
    "assignment_json",
    "link_json",
    "package_json",
    "project_json",
    "run_json",
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
