"""A JSON-ready picture of the whole emulated server, for tests, the demo and benchmarks.

Unlike the API views, the snapshot has no URLs and shows everything at once: entities by
kind, runs with their totals, attachments and node trees, incidents, node links and tasks.
"""

from __future__ import annotations

from typing import Any

from tmupload.emulation.records import record

from .entities import Package, ResultNode, Run, Task, totals_of
from .protocol import format_time
from .state import State

__all__ = ["run_snapshot", "snapshot"]


def snapshot(state: State) -> dict[str, Any]:
    runs = sorted(state.runs.values(), key=lambda r: r.imported_at)
    return {
        "projects": [
            {"Id": p.id, "Name": p.name, "ExternalSystemLinkIds": _link_ids(state, p.id)}
            for p in state.projects.values()
        ],
        "external_system_links": [
            {
                **record(link, Id="id", ProjectId="project_id", Name="name"),
                "ExternalSystemName": link.system_name,
                "Tickets": [
                    {"Id": t.id, "Key": t.key, "IncidentId": t.incident_id}
                    for t in link.tickets_by_key.values()
                ],
            }
            for link in state.links.values()
        ],
        "script_packages": [_package(state, p) for p in state.packages_of("script")],
        "execution_packages": [_package(state, p) for p in state.packages_of("execution")],
        "automated_tests": [
            {
                **record(t, Id="id", Name="name", PackageId="package_id", ProjectId="project_id"),
                "Type": t.type,
                "Configuration": dict(t.configuration),
            }
            for t in state.tests.values()
        ],
        "assignments": [
            {
                "Id": a.id,
                "AutomatedTestId": a.test_id,
                "PackageId": a.package_id,
                "Status": state.assignment_status(a),
                "RunIds": [r.id for r in state.runs_of(a.id)],
            }
            for a in state.assignments.values()
        ],
        "runs": [run_snapshot(state, run) for run in runs],
        "incidents": [
            {
                "Id": i.id,
                "ProjectId": i.project_id,
                "ExternalSystemLinkId": i.link_id,
                "TicketId": i.ticket_id,
                "TicketKey": i.ticket_key,
            }
            for i in state.incidents.values()
        ],
        "node_links": [
            {
                "RunId": run.id,
                "NodeId": node.id,
                "NodeName": node.name,
                "IncidentId": incident_id,
                "TicketKey": state.incidents[incident_id].ticket_key,
            }
            for run in runs
            for node in run.nodes.values()
            for incident_id in node.incident_ids
        ],
        "tasks": [_task(t) for t in state.tasks.values()],
    }


def run_snapshot(state: State, run: Run) -> dict[str, Any]:
    assignment = state.assignments[run.assignment_id]
    return {
        **record(run, Id="id", AssignmentId="assignment_id"),
        "AutomatedTestId": assignment.test_id,
        "Status": run.status,
        "RunBy": run.run_by.login,
        "ImportedAt": format_time(run.imported_at),
        "StartedAt": format_time(run.started_at),
        "FinishedAt": format_time(run.finished_at),
        "Totals": totals_of(run),
        "Nodes": [_node(state, run, node) for node in run.roots],
        "Attachments": _attachments(state, run.id, None),
    }


def _link_ids(state: State, project_id: str) -> list[str]:
    return [link.id for link in state.project_links(project_id)]


def _package(state: State, package: Package) -> dict[str, Any]:
    return {
        **record(package, Id="id", Name="name"),
        "Path": state.package_path(package),
        **record(package, ProjectId="project_id", ParentId="parent_id"),
    }


def _attachments(state: State, run_id: str, node_id: str | None) -> list[dict[str, Any]]:
    """docs/servers/et.md §5.4: the attachments of a run or node; ``Name`` is the file name as
    uploaded."""
    return [
        record(
            a, Id="id", Name="file_name", ContentType="content_type", Size="size", Sha256="sha256"
        )
        for a in state.attachments.of(run_id, node_id)
    ]


def _node(state: State, run: Run, node: ResultNode) -> dict[str, Any]:
    return {
        **record(node, Id="id", Name="name", Status="status", DurationInSeconds="duration"),
        "Description": node.description,
        "Metadata": dict(node.metadata),
        "Notes": node.notes,
        "Incidents": [
            {"IncidentId": i, "TicketKey": state.incidents[i].ticket_key} for i in node.incident_ids
        ],
        "Attachments": _attachments(state, run.id, node.id),
        "Children": [_node(state, run, child) for child in node.children],
    }


def _task(task: Task) -> dict[str, Any]:
    return {
        **record(task, Id="id", Kind="kind", Complete="complete", Error="error", Message="message"),
        "StartedAt": format_time(task.started_at),
        "FinishedAt": None if task.finished_at is None else format_time(task.finished_at),
        "IncidentId": task.incident_id,
    }
