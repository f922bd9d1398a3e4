"""A small, dependency-free HTML page showing what landed in the emulator.

``GET /`` lists projects -> releases -> the repository tree (folders and test cases) and the
cycles -> phases -> executions (the first :data:`EXECUTION_LIMIT` of each phase).
``GET /?phase=<id>`` shows one phase in full. Attachment names link to
``/_emulator/attachment/<id>`` (the stored bytes). Every value goes through ``html.escape``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from tmupload.emulation.page import bullet_list, html_page

from .snapshot import execution_snapshot
from .state import Folder, Phase, Release, State

__all__ = ["EXECUTION_LIMIT", "render_index", "render_phase"]

EXECUTION_LIMIT = 200

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:76em;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.1em;margin:1em 0 .3em}h4{font-size:1em;margin:.8em 0 .3em}
ul{margin:.2em 0;padding-left:1.3em}
.id{font:12px ui-monospace,monospace;color:#777}.muted{color:#777;font-size:12px}
table{border-collapse:collapse;width:100%;margin:.3em 0 .8em}
td,th{border-bottom:1px solid #eee;padding:.15em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6}.notes{white-space:pre-wrap;font:12px ui-monospace,monospace}
.st{display:inline-block;border-radius:3px;padding:0 .4em;color:#fff;font-size:12px}
"""


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _status(state: State, status_id: int) -> str:
    status = state.config.status(status_id)
    name = status.name if status else f"#{status_id}"
    color = status.color if status else "#999999"
    return f'<span class=st style="background:{escape(color)}">{escape(name)}</span>'


def _tree(state: State, folders: list[Folder]) -> str:
    items = []
    for folder in folders:
        cases = "".join(
            f"<li>{escape(t.testcase.name)} <span class=id>tct {t.id}, "
            f"version {t.testcase.id}</span></li>"
            for t in state.tcts_in(folder.id)
        )
        below = _tree(state, state.child_folders(folder.id))
        items.append(
            f"<li><b>{escape(folder.name)}</b> <span class=muted>{escape(folder.type)}</span> "
            f"<span class=id>{folder.id}</span><ul>{cases}</ul>{below}</li>"
        )
    return bullet_list(items)


def _executions(state: State, phase: Phase, limit: int | None) -> str:
    executions = state.executions_of(phase.id)
    shown = executions if limit is None else executions[:limit]
    rows = []
    for execution in shown:
        data = execution_snapshot(state, execution)
        links = ", ".join(
            f'<a href="/_emulator/attachment/{a["id"]}">{escape(a["name"])}</a> '
            f"<span class=muted>({escape(a['content_type'])}, {a['size']} bytes)</span>"
            # A picture is shown, as a person looking at the result would want.
            + (
                f'<br><img src="/_emulator/attachment/{a["id"]}" alt="{escape(a["name"])}" '
                'style="max-width:320px;max-height:200px">'
                if str(a["content_type"]).startswith("image/")
                else ""
            )
            for a in data["attachments"]
        )
        rows.append(
            f"<tr><td>{escape(data['test_case_name'])}<div class=muted>"
            f"{escape(data['folder_path'])}</div></td>"
            f"<td>{_status(state, execution.status_id)}</td>"
            f"<td class=notes>{escape(execution.notes)}</td>"
            f"<td>{escape(_when(execution.executed_on))}</td>"
            f"<td>{links}</td><td>{escape(', '.join(execution.defects))}</td></tr>"
        )
    table = (
        "<table><tr><th>Test case</th><th>Status</th><th>Notes</th><th>Executed</th>"
        "<th>Attachments</th><th>Defects</th></tr>" + "".join(rows) + "</table>"
    )
    if len(shown) < len(executions):
        table += (
            f"<p class=muted>Showing {len(shown)} of {len(executions)}. "
            f'<a href="/?phase={phase.id}">All executions of this phase</a>.</p>'
        )
    return table


def _release(state: State, release: Release) -> str:
    cycles = [c for c in state.cycles.values() if c.release_id == release.id]
    tree = _tree(state, state.top_folders(release.id)) or "<p class=muted>empty</p>"
    parts = [f"<h4>Repository</h4>{tree}"]
    for cycle in cycles:
        parts.append(f"<h4>Cycle {escape(cycle.name)} <span class=id>{cycle.id}</span></h4>")
        for phase_id in cycle.phase_ids:
            phase = state.phases[phase_id]
            kind = "free-form" if phase.free_form else "from a folder"
            parts.append(
                f'<p><a href="/?phase={phase.id}"><b>{escape(phase.name)}</b></a> '
                f"<span class=muted>phase {phase.id}, {kind}</span></p>"
                f"{_executions(state, phase, EXECUTION_LIMIT)}"
            )
    return "".join(parts)


def render_index(state: State) -> str:
    sections = ["<h1>Zephyr Enterprise emulator</h1>"]
    for project in state.projects.values():
        sections.append(
            f"<h2>Project {escape(project.name)} <span class=id>{project.id}</span></h2>"
        )
        for release in (r for r in state.releases.values() if r.project_id == project.id):
            sections.append(
                f"<h3>Release {escape(release.name)} <span class=id>{release.id}</span></h3>"
                f"{_release(state, release)}"
            )
    return html_page("Zephyr Enterprise emulator", "".join(sections), _CSS)


def render_phase(state: State, phase: Phase) -> str:
    cycle = state.cycles[phase.cycle_id]
    body = (
        '<p><a href="/">&larr; everything</a></p>'
        f"<h1>Phase {escape(phase.name)}</h1>"
        f"<p>Cycle {escape(cycle.name)}, {len(state.executions_of(phase.id))} execution(s) "
        f"<span class=id>{phase.id}</span></p>{_executions(state, phase, None)}"
    )
    return html_page(f"Phase {phase.name}", body, _CSS)
