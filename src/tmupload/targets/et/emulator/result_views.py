"""Result nodes, attachments, incidents and background tasks as the API shows them: PascalCase
JSON with absolute ``Self`` URLs (docs/servers/et.md §2.2), like views.py.

Every function takes ``root`` (``scheme://host`` plus the application path) and returns a
JSON-ready dict; field lists follow the reference section named in each docstring.
"""

from __future__ import annotations

from .attachments import Attachment, AttachmentStore
from .entities import Incident, ResultNode, Run, Task
from .protocol import format_time
from .state import State
from .views import JsonDict

__all__ = ["attachment_json", "incident_json", "node_incident_json", "node_json", "task_json"]


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
