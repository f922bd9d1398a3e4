"""A JSON-ready picture of the whole emulated site, for tests, the demo and the page.

Tests rely on this shape: ``projects``, ``cycles``, ``releases``, ``test_cases``,
``test_runs`` (each with its ``logs``, oldest first, and ``cycle_path``: the cycle names from
the topmost one joined by ``/``) and ``jobs``. Statuses are execution status names
(docs/servers/qtest.md §6); each log also keeps the ``automation_status`` string it was submitted
with.
"""

from __future__ import annotations

from typing import Any

from .protocol import format_time
from .state import State, TestLogItem, TestRunItem

__all__ = ["log_snapshot", "run_snapshot", "snapshot"]


def snapshot(state: State, now: float) -> dict[str, Any]:
    return {
        "projects": [{"id": p.id, "name": p.name} for p in state.projects.values()],
        "releases": [
            {"id": r.id, "pid": r.pid, "name": r.name, "project_id": r.project_id}
            for r in state.releases.values()
        ],
        "cycles": [
            {
                "id": c.id,
                "pid": c.pid,
                "name": c.name,
                "parent_id": c.parent_id,
                "parent_type": c.parent_type,
                "project_id": c.project_id,
                "path": state.cycle_path(c),
            }
            for c in state.cycles.values()
        ],
        "modules": [
            {
                "id": m.id,
                "pid": m.pid,
                "name": m.name,
                "parent_id": m.parent_id,
                "project_id": m.project_id,
            }
            for m in state.modules.values()
        ],
        "test_cases": [
            {
                "id": t.id,
                "pid": t.pid,
                "name": t.name,
                "automation_content": t.automation_content,
                "module_path": state.module_path(t.module_id),
                "project_id": t.project_id,
            }
            for t in state.test_cases.values()
        ],
        "test_runs": [run_snapshot(state, run) for run in state.runs.values()],
        "jobs": [
            {
                "id": j.id,
                "project_id": j.project_id,
                "state": state.job_state(j, now),
                "content": j.content,
            }
            for j in state.jobs.values()
        ],
    }


def run_snapshot(state: State, run: TestRunItem) -> dict[str, Any]:
    cycle = state.cycles[run.cycle_id]
    return {
        "id": run.id,
        "pid": run.pid,
        "name": run.name,
        "automation_content": run.automation_content,
        "cycle_id": run.cycle_id,
        "cycle_path": state.cycle_path(cycle),
        "project_id": run.project_id,
        "test_case_id": run.test_case_id,
        "status": state.run_status(run),
        "logs": [log_snapshot(state, state.logs[i]) for i in run.log_ids],
    }


def log_snapshot(state: State, log: TestLogItem) -> dict[str, Any]:
    return {
        "id": log.id,
        "status": log.status,
        "automation_status": log.automation_status,
        "note": log.note,
        "exe_start_date": format_time(log.exe_start),
        "exe_end_date": format_time(log.exe_end),
        "submitted_by": log.submitted_by,
        "attachments": [
            {
                "id": a.id,
                "name": a.name,
                "content_type": a.content_type,
                "size": len(a.data),
                "sha256": a.sha256,
            }
            for a in log.attachments
        ],
        "test_step_logs": [
            {
                "order": s.order,
                "description": s.description,
                "expected_result": s.expected_result,
                "actual_result": s.actual_result,
                "status": s.status,
            }
            for s in log.steps
        ],
        "defects": [state.defects[i].key for i in log.defect_ids],
    }
