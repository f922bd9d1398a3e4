"""A small, dependency-free HTML page showing what landed in the emulator.

``GET /`` lists each project's releases and its test-cycle tree, with the runs of each cycle
(latest status, latest note, linked defects) and the queue jobs. ``GET /?run=<id>`` shows one
run's logs in full: status, dates, note, steps, attachments (name, type, size and a link to
the bytes under ``/_emulator/attachments/<id>``) and defects. Every value goes through
``html.escape``.
"""

from __future__ import annotations

from html import escape

from tmupload.emulation.page import BASE_CSS, html_page, status_badge

from .protocol import format_time
from .state import Cycle, State, TestLogItem, TestRunItem

__all__ = ["render_index", "render_run"]

_CSS = (
    BASE_CSS
    + """\
.st-passed{background:#2e7d32}.st-failed{background:#c62828}.st-blocked{background:#ad1457}
.st-unexecuted,.st-incomplete{background:#757575}.muted{color:#777;font-size:12px}
.note{background:#fff8e1;padding:.3em .6em;border-left:3px solid #f9a825;white-space:pre-wrap}
"""
)


def _defects(state: State, log: TestLogItem | None) -> str:
    if log is None:
        return ""
    return ", ".join(escape(state.defects[i].key) for i in log.defect_ids)


def _runs_table(state: State, runs: list[TestRunItem]) -> str:
    rows = []
    for run in runs:
        latest = state.latest_log(run)
        note = escape((latest.note if latest else "")[:200])
        rows.append(
            f"<tr><td><a href='?run={run.id}'>{escape(run.pid)}</a></td>"
            f"<td>{escape(run.name)}<div class=muted>{escape(run.automation_content)}</div></td>"
            f"<td>{status_badge(state.run_status(run))}</td><td class=num>{len(run.log_ids)}</td>"
            f"<td class=muted>{note}</td><td>{_defects(state, latest)}</td></tr>"
        )
    return (
        "<table><tr><th>Run</th><th>Name</th><th>Status</th><th>Logs</th>"
        "<th>Latest note</th><th>Defects</th></tr>" + "".join(rows) + "</table>"
    )


def _cycle(state: State, cycle: Cycle) -> str:
    runs = sorted((r for r in state.runs.values() if r.cycle_id == cycle.id), key=lambda r: r.id)
    children = sorted(
        state.child_cycles(cycle.project_id, "test-cycle", cycle.id), key=lambda c: c.id
    )
    inner = _runs_table(state, runs) if runs else ""
    inner += "".join(_cycle(state, child) for child in children)
    return (
        f"<li><b>{escape(cycle.name)}</b> <span class=id>{escape(cycle.pid)} · {cycle.id}</span>"
        f"{'<ul>' + inner + '</ul>' if inner else ''}</li>"
    )


def render_index(state: State, now: float) -> str:
    parts = ["<h1>qTest Manager emulator</h1>"]
    for project in state.projects.values():
        parts.append(f"<h2>{escape(project.name)} <span class=id>project {project.id}</span></h2>")
        releases = [r for r in state.releases.values() if r.project_id == project.id]
        tops = [("root", 0, "Root", "")] + [("release", r.id, r.name, r.pid) for r in releases]
        for parent_type, parent_id, label, pid in tops:
            cycles = sorted(
                state.child_cycles(project.id, parent_type, parent_id), key=lambda c: c.id
            )
            parts.append(f"<h3>{escape(label)} <span class=id>{escape(pid)}</span></h3>")
            if cycles:
                parts.append("<ul>" + "".join(_cycle(state, c) for c in cycles) + "</ul>")
            else:
                parts.append("<p class=muted>No test cycles.</p>")
    if state.jobs:
        rows = "".join(
            f"<tr><td>{job.id}</td><td>{escape(state.job_state(job, now))}</td>"
            f"<td class=muted>{escape((job.content or '')[:300])}</td></tr>"
            for job in state.jobs.values()
        )
        parts.append(
            "<h2>Queue jobs</h2><table><tr><th>Id</th><th>State</th><th>Content</th></tr>"
            + rows
            + "</table>"
        )
    return html_page("qTest Manager emulator", "".join(parts), _CSS)


def _log(state: State, log: TestLogItem) -> str:
    attachments = "".join(
        f"<li><a href='/_emulator/attachments/{a.id}'>{escape(a.name)}</a> "
        f"<span class=muted>{escape(a.content_type)}, {len(a.data)} bytes, "
        f"sha256 {a.sha256[:16]}…</span>"
        # A picture is shown, as a person looking at the result would want.
        + (
            f"<br><img src='/_emulator/attachments/{a.id}' alt='{escape(a.name)}' "
            "style='max-width:320px;max-height:200px'>"
            if a.content_type.startswith("image/")
            else ""
        )
        + "</li>"
        for a in log.attachments
    )
    steps = "".join(
        f"<tr><td class=num>{s.order}</td><td>{escape(s.description)}</td>"
        f"<td>{escape(s.expected_result)}</td><td>{escape(s.actual_result)}</td>"
        f"<td>{status_badge(s.status)}</td></tr>"
        for s in log.steps
    )
    return (
        f"<h3>Log {log.id} {status_badge(log.status)} "
        f"<span class=muted>sent as {escape(log.automation_status)} by "
        f"{escape(log.submitted_by)}</span></h3>"
        f"<p class=muted>{format_time(log.exe_start)} → {format_time(log.exe_end)}</p>"
        + (f"<div class=note>{escape(log.note)}</div>" if log.note else "")
        + (
            "<table><tr><th>#</th><th>Step</th><th>Expected</th><th>Actual</th>"
            f"<th>Status</th></tr>{steps}</table>"
            if steps
            else ""
        )
        + (f"<p>Attachments:</p><ul>{attachments}</ul>" if attachments else "")
        + (f"<p>Defects: {_defects(state, log)}</p>" if log.defect_ids else "")
    )


def render_run(state: State, run: TestRunItem) -> str:
    cycle = state.cycles[run.cycle_id]
    case = state.test_cases[run.test_case_id]
    logs = "".join(_log(state, state.logs[i]) for i in reversed(run.log_ids))
    body = (
        "<p><a href='/'>← all projects</a></p>"
        f"<h1>{escape(run.pid)} {escape(run.name)} {status_badge(state.run_status(run))}</h1>"
        f"<p>Cycle <b>{escape(state.cycle_path(cycle))}</b> <span class=id>{cycle.pid}</span>"
        f" · test case <b>{escape(case.pid)}</b> in "
        f"<code>{escape(state.module_path(case.module_id))}</code></p>"
        f"<p>Automation content <code>{escape(run.automation_content)}</code></p>"
        f"<h2>Test logs, newest first</h2>{logs}"
    )
    return html_page(f"{run.pid} {run.name}", body, _CSS)
