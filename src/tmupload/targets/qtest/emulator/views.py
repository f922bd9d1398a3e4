"""The JSON resources the API answers with (``ProjectResource``, ``TestCycleResource``, ...).

Field names follow the spec where the reference names them (docs/servers/qtest.md §3–§8). Everything
else is [inference]: in particular a test run carries its status and its Automation Content only as
``properties`` (``field_name`` "Status" / "Automation Content"), not as top-level fields, and a
test log's ``status`` is a ``StatusResource`` object (docs/servers/qtest.md §6: the manual-log
endpoint takes ``{"id": 601}``), not the automation string that was submitted.
"""

from __future__ import annotations

from typing import Any

from .protocol import format_time
from .state import (
    Attachment,
    Cycle,
    Defect,
    Job,
    Project,
    Release,
    State,
    StepLog,
    TestCaseItem,
    TestLogItem,
    TestRunItem,
)

__all__ = [
    "AUTOMATION_CONTENT_FIELD_ID",
    "STATUS_FIELD_ID",
    "cycle_view",
    "defect_object",
    "job_view",
    "log_view",
    "project_view",
    "release_view",
    "run_view",
    "status_view",
    "test_case_view",
]

#: [inference] field ids of the two test-run properties the emulator shows.
STATUS_FIELD_ID = 12001
AUTOMATION_CONTENT_FIELD_ID = 12002


def _self(root: str, path: str) -> list[dict[str, str]]:
    return [{"rel": "self", "href": f"{root}/api/v3/{path}"}]


def _web(root: str, project_id: int, tab: str, object_id: int) -> str:
    return f"{root}/p/{project_id}/portal/project#tab={tab}&id={object_id}"


def project_view(project: Project, root: str) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "description": "",
        "start_date": format_time(project.created_at),
        "web_url": f"{root}/p/{project.id}/portal/project",
        "links": _self(root, f"projects/{project.id}"),
    }


def release_view(release: Release, root: str) -> dict[str, Any]:
    return {
        "id": release.id,
        "pid": release.pid,
        "name": release.name,
        "created_date": format_time(release.created_at),
        "last_modified_date": format_time(release.created_at),
        "web_url": _web(root, release.project_id, "releases", release.id),
        "links": _self(root, f"projects/{release.project_id}/releases/{release.id}"),
    }


def cycle_view(
    state: State, cycle: Cycle, root: str, *, children: bool = False, deep: bool = False
) -> dict[str, Any]:
    """docs/servers/qtest.md §8 ``TestCycleResource``. ``test-cycles``/``test-suites`` appear with
    ``children`` (the create answer: empty lists) and, filled recursively, with ``deep``
    (``expand=descendants``)."""
    view: dict[str, Any] = {
        "id": cycle.id,
        "pid": cycle.pid,
        "name": cycle.name,
        "description": cycle.description,
        "target_release_id": cycle.target_release_id,
        "created_date": format_time(cycle.created_at),
        "last_modified_date": format_time(cycle.created_at),
        "web_url": _web(root, cycle.project_id, "testexecution", cycle.id),
        "links": _self(root, f"projects/{cycle.project_id}/test-cycles/{cycle.id}"),
    }
    if children or deep:
        kids = state.child_cycles(cycle.project_id, "test-cycle", cycle.id) if deep else []
        view["test-cycles"] = [cycle_view(state, kid, root, deep=True) for kid in kids]
        view["test-suites"] = []
    return view


def status_view(state: State, name: str) -> dict[str, Any]:
    return {"id": state.config.execution_statuses.get(name, 0), "name": name}


def test_case_view(state: State, case: TestCaseItem, root: str) -> dict[str, Any]:
    return {
        "id": case.id,
        "pid": case.pid,
        "name": case.name,
        "parent_id": case.module_id,
        "test_case_version_id": case.version_id,
        "version": "1.0",
        "created_date": format_time(case.created_at),
        "last_modified_date": format_time(case.created_at),
        "properties": [
            {
                "field_id": AUTOMATION_CONTENT_FIELD_ID,
                "field_name": "Automation Content",
                "field_value": case.automation_content,
            },
        ],
        "web_url": _web(root, case.project_id, "testdesign", case.id),
        "links": _self(root, f"projects/{case.project_id}/test-cases/{case.id}"),
    }


def run_view(
    state: State,
    run: TestRunItem,
    root: str,
    *,
    expand_case: bool = False,
    automation: bool = True,
) -> dict[str, Any]:
    """A test run. ``automation=False`` (strict mode, ``EmulatorConfig.strict``): no
    "Automation Content" property and ``test_case`` only ``{"id": …}`` even when expanded
    (docs/servers/qtest.md §7.4, §8 do not promise that a run shows its Automation Content)."""
    case = state.test_cases[run.test_case_id]
    status = state.run_status(run)
    latest = state.latest_log(run)
    modified = latest.created_at if latest is not None else run.created_at
    properties: list[dict[str, Any]] = [
        {
            "field_id": STATUS_FIELD_ID,
            "field_name": "Status",
            "field_value": str(state.config.execution_statuses.get(status, 0)),
            "field_value_name": status,
        },
    ]
    if automation:
        properties.append(
            {
                "field_id": AUTOMATION_CONTENT_FIELD_ID,
                "field_name": "Automation Content",
                "field_value": run.automation_content,
            }
        )
    expanded = expand_case and automation
    return {
        "id": run.id,
        "pid": run.pid,
        "name": run.name,
        "parentId": run.cycle_id,
        "parentType": "test-cycle",
        "test_case_version_id": case.version_id,
        "test_case": test_case_view(state, case, root) if expanded else {"id": case.id},
        "created_date": format_time(run.created_at),
        "last_modified_date": format_time(modified),
        "properties": properties,
        "web_url": _web(root, run.project_id, "testexecution", run.id),
        "links": _self(root, f"projects/{run.project_id}/test-runs/{run.id}"),
    }


def attachment_view(attachment: Attachment, project_id: int, root: str) -> dict[str, Any]:
    """docs/servers/qtest.md §4.3: ``data`` is ignored on download; ``id``, ``web_url``,
    ``created_date`` and ``links`` are the read-only fields."""
    path = f"projects/{project_id}/test-logs/{attachment.log_id}/attachments/{attachment.id}"
    return {
        "id": attachment.id,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "created_date": format_time(attachment.created_at),
        "web_url": f"{root}/api/v3/{path}",
        "links": _self(root, path),
    }


def _step_view(state: State, step: StepLog) -> dict[str, Any]:
    return {
        "order": step.order,
        "description": step.description,
        "expected_result": step.expected_result,
        "actual_result": step.actual_result,
        "status": status_view(state, step.status),
    }


def log_view(
    state: State, log: TestLogItem, root: str, *, expand_case: bool = False
) -> dict[str, Any]:
    run = state.runs[log.run_id]
    case = state.test_cases[run.test_case_id]
    view: dict[str, Any] = {
        "id": log.id,
        "test_case_version_id": case.version_id,
        "exe_start_date": format_time(log.exe_start),
        "exe_end_date": format_time(log.exe_end),
        "note": log.note,
        "status": status_view(state, log.status),
        "build_number": log.build_number,
        "build_url": log.build_url,
        "attachments": [attachment_view(a, run.project_id, root) for a in log.attachments],
        "test_step_logs": [_step_view(state, step) for step in log.steps],
        "properties": [],
        "web_url": _web(root, run.project_id, "testexecution", run.id),
        "links": _self(root, f"projects/{run.project_id}/test-runs/{run.id}/test-logs/{log.id}"),
    }
    if expand_case:
        view["test_case"] = test_case_view(state, case, root)
    return view


def defect_object(defect: Defect) -> dict[str, Any]:
    """One linked defect, shaped like the spec's ``LinkedDefectContainer`` objects
    (docs/servers/qtest.md §7.2)."""
    return {
        "id": defect.id,
        "pid": defect.key,
        "link_type": "is_associated_with",
        "external_defect_id": defect.key,
        "connection_id": 1,
        "external_project_id": defect.key.rsplit("-", 1)[0],
        "summary": f"Defect {defect.key}",
        "status": "New",
    }


def job_view(state: State, job: Job, now: float, *, minimal: bool = False) -> dict[str, Any]:
    """docs/servers/qtest.md §5 ``QueueProcessingResponse``. [inference] ``content`` is null until
    the job ends.

    ``minimal`` (strict mode, ``EmulatorConfig.strict``): a SUCCESS job's ``content`` is the
    empty JSON object string, since its keys for ``type=automation`` jobs are [UNCONFIRMED]
    (docs/servers/qtest.md §5)."""
    current = state.job_state(job, now)
    content = job.content if current == job.state else None
    if minimal and current == "SUCCESS":
        content = "{}"
    return {
        "id": job.id,
        "type": "AUTOMATION_TEST_LOG",
        "state": current,
        "contentType": "application/json",
        "content": content,
    }
