"""A JSON-ready picture of the whole emulated site, for tests, the demo and the page.

Tests rely on this shape: ``projects``, ``cycles``, ``releases``, ``test_cases``,
``test_runs`` (each with its ``logs``, oldest first, and ``cycle_path``: the cycle names from
the topmost one joined by ``/``) and ``jobs``. Statuses are execution status names
(docs/servers/qtest.md §6); each log also keeps the ``automation_status`` string it was submitted
with.
"""

from __future__ import annotations

from typing import Any

from tmupload.emulation.records import record

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
                **record(c, "id", "pid", "name", "parent_id", "parent_type", "project_id"),
                "path": state.cycle_path(c),
            }
            for c in state.cycles.values()
        ],
        "modules": [
            record(m, "id", "pid", "name", "parent_id", "project_id")
            for m in state.modules.values()
        ],
        "test_cases": [
            {
                **record(t, "id", "pid", "name", "automation_content"),
                "module_path": state.module_path(t.module_id),
                "project_id": t.project_id,
            }
            for t in state.test_cases.values()
        ],
        "test_runs": [run_snapshot(state, run) for run in state.runs.values()],
        "jobs": [
            {
                **record(j, "id", "project_id"),
                "state": state.job_state(j, now),
                "content": j.content,
            }
            for j in state.jobs.values()
        ],
    }


def run_snapshot(state: State, run: TestRunItem) -> dict[str, Any]:
    cycle = state.cycles[run.cycle_id]
    return {
        **record(run, "id", "pid", "name", "automation_content", "cycle_id"),
        "cycle_path": state.cycle_path(cycle),
        **record(run, "project_id", "test_case_id"),
        "status": state.run_status(run),
        "logs": [log_snapshot(state, state.logs[i]) for i in run.log_ids],
    }


def log_snapshot(state: State, log: TestLogItem) -> dict[str, Any]:
    return {
        **record(log, "id", "status", "automation_status", "note"),
        "exe_start_date": format_time(log.exe_start),
        "exe_end_date": format_time(log.exe_end),
        "submitted_by": log.submitted_by,
        "attachments": [
            {
                **record(a, "id", "name", "content_type"),
                "size": len(a.data),
                "sha256": a.sha256,
            }
            for a in log.attachments
        ],
        "test_step_logs": [
            record(s, "order", "description", "expected_result", "actual_result", "status")
            for s in log.steps
        ],
        "defects": [state.defects[i].key for i in log.defect_ids],
    }
