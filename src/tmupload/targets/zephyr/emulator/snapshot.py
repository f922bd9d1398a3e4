"""A JSON-ready picture of everything that landed, for tests, the demo and the page.

Shape (tests rely on it; keys may be added, never renamed)::

    {"projects": [{"id", "name", "releases": [{"id", "name"}]}],
     "folders": [{"id", "name", "type", "parent_id", "release_id", "path"}],
     "test_cases": [{"id", "tcr_id", "name", "folder_path", …}],
     "cycles": [{"id", "name", "release_id", "phases": [{"id", "name", "executions": [
         {"id", "test_case_name", "folder_path", "status_id", "status_name", "notes",
          "executed_on", "attachments": [{"name", "content_type", "size", "sha256"}],
          "defects": ["PAY-17", …], …}]}]}]}

``folders`` holds repository folders only (a free-form phase's own tree is not one). In
``test_cases``, ``id`` is the test case *version* id (``tct.testcase.id``) and ``tcr_id`` the
tct id (its placement in the folder). ``path``/``folder_path`` are folder names from the
release's root joined by ``/``. An unexecuted execution has ``status_id`` equal to
``config.not_executed_status_id`` (10) and ``executed_on`` None.
"""

from __future__ import annotations

from typing import Any

from tmupload.emulation.records import record

from .state import Execution, Phase, State

__all__ = ["execution_snapshot", "snapshot"]


def execution_snapshot(state: State, execution: Execution) -> dict[str, Any]:
    tct = state.tcts[execution.tct_id]
    source = state.repository_tct(tct)
    status = state.config.status(execution.status_id)
    return {
        "id": execution.id,
        "test_case_name": tct.testcase.name,
        "folder_path": state.folder_path(source.tree_id),
        "status_id": execution.status_id,
        "status_name": status.name if status else None,
        **record(execution, "notes", "executed_on"),
        "attachments": [
            record(state.attachments[i], "id", "name", "content_type", "size", "sha256")
            for i in execution.attachment_ids
        ],
        "defects": list(execution.defects),
        **record(execution, "tester_id", "actual_time", "tct_id"),
        "testcase_version_id": tct.testcase.id,
    }


def phase_snapshot(state: State, phase: Phase) -> dict[str, Any]:
    return {
        **record(phase, "id", "name", "free_form", "tree_id"),
        "executions": [execution_snapshot(state, e) for e in state.executions_of(phase.id)],
    }


def snapshot(state: State) -> dict[str, Any]:
    repository = [f for f in state.folders.values() if f.phase_id is None]
    return {
        "projects": [
            {
                "id": project.id,
                "name": project.name,
                "releases": [
                    {"id": r.id, "name": r.name}
                    for r in state.releases.values()
                    if r.project_id == project.id
                ],
            }
            for project in state.projects.values()
        ],
        "folders": [
            {
                **record(f, "id", "name", "type", "parent_id", "release_id"),
                "path": state.folder_path(f.id),
            }
            for f in repository
        ],
        "test_cases": [
            {
                "id": t.testcase.id,
                "tcr_id": t.id,
                "name": t.testcase.name,
                "folder_path": state.folder_path(t.tree_id),
                "folder_id": t.tree_id,
                "testcase_id": t.testcase.testcase_id,
                "automated": t.testcase.automated,
            }
            for t in state.tcts.values()
            if t.source_tct_id is None
        ],
        "cycles": [
            {
                **record(c, "id", "name", "release_id"),
                "phases": [phase_snapshot(state, state.phases[pid]) for pid in c.phase_ids],
            }
            for c in state.cycles.values()
        ],
        "pending_uploads": sum(1 for u in state.uploads.values() if not u.registered),
    }
