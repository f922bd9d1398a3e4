"""How entities look on the wire: the JSON each REST answer carries.

Field names follow the reference where it shows a response (docs/servers/zephyr.md §5.1–§5.7) and
the vendor plugin's models [CLIENT]; extra fields a real server probably sends are marked
[inference]. Dates are epoch milliseconds, with the ``MM/dd/yyyy`` twins the documentation echoes.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tmupload.emulation.records import record

from .config import EmulatorConfig
from .protocol import us_date
from .state import (
    Attachment,
    Cycle,
    Execution,
    Folder,
    Phase,
    Project,
    Release,
    State,
    Tct,
    User,
)

__all__ = [
    "attachment_view",
    "cycle_view",
    "execution_view",
    "folder_view",
    "page_envelope",
    "phase_view",
    "project_view",
    "release_view",
    "status_list",
    "tct_view",
    "user_view",
]


def page_envelope(items: list[Any], offset: int, total: int) -> dict[str, Any]:
    """docs/servers/zephyr.md §2: paged lists answer ``{"results": [...]}``. [inference]
    ``firstResult`` and ``resultSize`` (the count of *all* matches, not of this page) travel beside
    it."""
    return {"firstResult": offset, "resultSize": total, "results": items}


def user_view(user: User) -> dict[str, Any]:
    """docs/servers/zephyr.md §3: ``id``, ``username``, ``roles`` ([{"name":
    "lead"|"manager"|…}])."""
    role = "tester" if user.readonly else "manager"  # [inference] the role names
    return {
        "id": user.id,
        "username": user.login,
        "firstName": user.login,
        "lastName": "",
        "email": f"{user.login}@example.com",
        "accountEnabled": True,
        "roles": [{"id": 1 if user.readonly else 2, "name": role}],
    }


def project_view(project: Project) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": "",
        "globalProject": False,
        "startDate": project.created_on,
        "endDate": None,
        "members": [],
    }


def release_view(release: Release) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.1 [DOC]: the fields of a created release."""
    return {
        **record(release, "id", "name", "description", startDate="start_date"),
        "releaseStartDate": us_date(release.start_date),
        "endDate": release.end_date,
        "releaseEndDate": us_date(release.end_date),
        **record(release, createdDate="created_on", projectId="project_id", orderId="id"),
        "globalRelease": False,
        "projectRelease": True,
    }


def folder_view(state: State, folder: Folder, *, deep: bool = True) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.2 [DOC]: a tree node; ``categories`` holds its child nodes
    (recursively)."""
    children = state.child_folders(folder.id)
    direct = len(state.tcts_in(folder.id))
    cumulative = sum(len(state.tcts_in(node.id)) for node in state.descendants(folder.id))
    return {
        "id": folder.id,
        "type": folder.type,
        "name": folder.name,
        "description": folder.description,
        "revision": 0,
        "releaseId": folder.release_id,
        "parentId": folder.parent_id or 0,
        "categories": [folder_view(state, child) for child in children] if deep else [],
        "assignedUsers": [],
        "linkedTCRCatalogTreeId": None,
        "createdOn": folder.created_on,
        "createdBy": folder.created_by,
        "lastModifiedBy": folder.created_by,
        "lastModifiedOn": folder.created_on,
        "testcaseCount": direct,
        "cumulativeTestcaseCount": cumulative,
    }


def tct_view(tct: Tct) -> dict[str, Any]:
    """docs/servers/zephyr.md §4, §5.3: ``id`` is the tct id, ``testcase.id`` the version id."""
    case = tct.testcase
    return {
        "id": tct.id,
        "tcrCatalogTreeId": tct.tree_id,
        "revision": 0,
        "testcase": {
            "id": case.id,
            "testcaseId": case.testcase_id,
            "name": case.name,
            "description": case.description,
            "tag": case.tag,
            "automated": case.automated,
            "scriptName": case.script_name,
            "projectId": case.project_id,
            "releaseId": case.release_id,
            "versionNumber": 1,
            "customProperties": dict(case.custom_properties),
            "createDatetime": case.created_on,
        },
    }


def phase_view(phase: Phase) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.4: a cycle phase; ``tcrCatalogTreeId`` is its tree."""
    return {
        **record(phase, "id", "name", "description", cycleId="cycle_id", releaseId="release_id"),
        **record(phase, freeForm="free_form", tcrCatalogTreeId="tree_id", startDate="start_date"),
        "endDate": phase.end_date,
        "phaseStartDate": us_date(phase.start_date),
        "phaseEndDate": us_date(phase.end_date),
        "createdOn": phase.created_on,
    }


def cycle_view(state: State, cycle: Cycle) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.4 [DOC]: the fields of a created cycle, with its
    ``cyclePhases``."""
    return {
        "id": cycle.id,
        "name": cycle.name,
        "environment": cycle.environment,
        "build": cycle.build,
        "startDate": cycle.start_date,
        "endDate": cycle.end_date,
        "cycleStartDate": us_date(cycle.start_date),
        "cycleEndDate": us_date(cycle.end_date),
        "status": cycle.status,
        "revision": 0,
        "releaseId": cycle.release_id,
        "cyclePhases": [phase_view(state.phases[pid]) for pid in cycle.phase_ids],
        "createdOn": cycle.created_on,
    }


def execution_view(state: State, execution: Execution) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.5–§5.6: an RTS. ``status`` is a string (the doc's response and the
    plugin's model); notes come back as ``comment`` (the doc's single-execution response)."""
    tct = state.tcts[execution.tct_id]
    assigned = datetime.fromtimestamp(execution.assigned_on / 1000, tz=timezone.utc)
    return {
        "id": execution.id,
        "cyclePhaseId": execution.phase_id,
        "testerId": execution.tester_id,
        "assignmentDate": assigned.strftime("%Y-%m-%d"),
        "status": str(execution.status_id),
        "comment": execution.notes,
        "actualTime": execution.actual_time,
        "executedBy": execution.executed_by,
        "executedOn": execution.executed_on,
        "changedOn": execution.changed_on,
        "versionId": "1",
        "defects": list(execution.defects),  # [inference]
        "tcrTreeTestcase": tct_view(tct),
    }


def attachment_view(attachment: Attachment) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.7: the registered fields, plus ``id``. [inference] the read-back
    shape."""
    return {
        "id": attachment.id,
        "itemId": attachment.item_id,
        "itemType": attachment.item_type,
        "name": attachment.name,
        "contentType": attachment.content_type,
        "fileSize": attachment.size,
        "createdBy": attachment.created_by,
        "timeStamp": attachment.created_on,
    }


def status_list(config: EmulatorConfig) -> list[dict[str, Any]]:
    """The LOV entries (docs/servers/zephyr.md §5.6: ``id`` and ``active``). [inference] ``value``
    is the name."""
    return [
        {
            "id": status.id,
            "value": status.name,
            "active": status.active,
            "color": status.color,
            "description": status.name,
            "type": 0,
        }
        for status in config.statuses
    ]
