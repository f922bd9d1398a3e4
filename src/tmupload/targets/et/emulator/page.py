"""A small, dependency-free HTML page showing what landed in the emulator.

``GET {app_path}/`` lists projects -> script packages and automated tests, execution packages
and assignments -> runs (status, totals, ImportedAt) -> result nodes (the first
:data:`NODE_LIMIT` of each run). ``?run=<id>`` shows one run's nodes in full. Attachments of
runs and nodes are listed with a link to their bytes (``/_emulator/attachment/<id>``); images
are shown inline, small. Every value goes through ``html.escape``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from html import escape

from tmupload.emulation.page import BASE_CSS, bullet_list, html_page, status_badge

from .attachments import Attachment
from .entities import Package, ResultNode, Run, totals_of
from .protocol import format_time
from .state import State

__all__ = ["NODE_LIMIT", "render_index", "render_run"]

#: Nodes shown per run on the index page.
NODE_LIMIT = 500

_CSS = (
    BASE_CSS
    + """\
.st-passed{background:#2e7d32}.st-failed{background:#c62828}.st-error{background:#ad1457}
.st-skipped,.st-notrun{background:#757575}.muted{color:#777;font-size:12px}
.note{background:#fff8e1;padding:.3em .6em;border-left:3px solid #f9a825}
details{margin:.3em 0 .6em}summary{cursor:pointer}
.att{list-style:none;padding:0;margin:0}.att li{margin:.1em 0}
.thumb{display:block;max-width:10em;max-height:6em;border:1px solid #ddd;margin:.2em 0}
"""
)


def _walk(roots: list[ResultNode]) -> Iterator[tuple[int, ResultNode]]:
    """Depth-first (depth, node) pairs, without recursion."""
    stack = [(0, node) for node in reversed(roots)]
    while stack:
        depth, node = stack.pop()
        yield depth, node
        stack.extend((depth + 1, child) for child in reversed(node.children))


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def _attachments(state: State, run_id: str, node_id: str | None) -> str:
    """A run's or node's attachments: name (a link to the bytes), type, size; images inline."""
    items = []
    for attachment in state.attachments.of(run_id, node_id):
        href = escape(f"{state.config.app_path}/_emulator/attachment/{attachment.id}")
        items.append(
            f'<li><a href="{href}">{escape(attachment.file_name)}</a> '
            f"<span class=muted>{escape(attachment.content_type)}, "
            f"{escape(_size(attachment.size))}</span>{_thumbnail(attachment, href)}</li>"
        )
    return bullet_list(items, "att")


def _thumbnail(attachment: Attachment, href: str) -> str:
    if not attachment.is_image:
        return ""
    return f'<img class=thumb src="{href}" alt="{escape(attachment.file_name)}" loading=lazy>'


def _nodes_table(state: State, run: Run, limit: int | None) -> str:
    rows = []
    pairs = _walk(run.roots)
    for depth, node in pairs if limit is None else itertools.islice(pairs, limit):
        tickets = ", ".join(
            f"{escape(key)} <span class=id>(incident {escape(incident_id)})</span>"
            for key, incident_id in state.node_ticket_keys(node)
        )
        description = (
            f"<div class=muted>{escape(node.description[:300])}</div>" if node.description else ""
        )
        rows.append(
            f'<tr><td style="padding-left:{0.5 + 1.2 * depth:.1f}em">{escape(node.name)}'
            f"{description}</td><td>{status_badge(node.status)}</td>"
            f"<td class=num>{node.duration:.3f} s</td><td>{tickets}</td>"
            f"<td>{_attachments(state, run.id, node.id)}</td></tr>"
        )
    table = (
        "<table><tr><th>Node</th><th>Status</th><th>Duration</th><th>Tickets</th>"
        "<th>Attachments</th></tr>" + "".join(rows) + "</table>"
    )
    total = len(run.nodes)
    if limit is not None and total > limit:
        table += (
            f"<p class=note>Showing the first {limit} of {total} nodes. "
            f'<a href="?run={escape(run.id)}">Show all nodes of this run</a>.</p>'
        )
    return table


def _totals(run: Run) -> str:
    totals = totals_of(run)
    return escape(
        f"{totals['Passed']} passed, {totals['Failed']} failed, {totals['Errors']} errors, "
        f"{totals['Skipped']} skipped ({totals['TotalNodes']} nodes)"
    )


def _run_block(state: State, run: Run, is_open: bool) -> str:
    summary = (
        f"{status_badge(run.status)} imported {escape(format_time(run.imported_at))} by "
        f"{escape(run.run_by.login)}: {_totals(run)} "
        f'<a href="?run={escape(run.id)}" class=id>{escape(run.id)}</a>'
    )
    attribute = " open" if is_open else ""
    return (
        f"<details{attribute}><summary>{summary}</summary>{_run_attachments(state, run)}"
        f"{_nodes_table(state, run, NODE_LIMIT)}</details>"
    )


def _run_attachments(state: State, run: Run) -> str:
    listing = _attachments(state, run.id, None)
    return f"<div>Run attachments: {listing}</div>" if listing else ""


def _package_tree(state: State, kind: str, project_id: str) -> str:
    packages = [p for p in state.packages_of(kind) if p.project_id == project_id]
    children: dict[str | None, list[Package]] = {}
    for package in packages:
        children.setdefault(package.parent_id, []).append(package)

    def branch(parent_id: str | None) -> str:
        items = []
        for package in children.get(parent_id, []):
            items.append(
                f"<li><b>{escape(package.name)}</b> <span class=id>{escape(package.id)}</span>"
                f"{_package_content(state, package)}{branch(package.id)}</li>"
            )
        return bullet_list(items)

    return branch(None) or "<p class=muted>none</p>"


def _package_content(state: State, package: Package) -> str:
    if package.kind == "script":
        tests = [t for t in state.tests.values() if t.package_id == package.id]
        items = [
            f"<li>automated test {escape(t.name)} <span class=muted>({escape(t.type)})</span></li>"
            for t in tests
        ]
        return bullet_list(items)
    parts = []
    for assignment in (a for a in state.assignments.values() if a.package_id == package.id):
        test = state.tests[assignment.test_id]
        runs = state.runs_of(assignment.id)
        blocks = "".join(
            _run_block(state, run, is_open=index == 0) for index, run in enumerate(reversed(runs))
        )
        parts.append(
            f"<li>assignment of <b>{escape(test.name)}</b> "
            f"{status_badge(state.assignment_status(assignment))} "
            f"<span class=muted>{len(runs)} run(s)</span>{blocks}</li>"
        )
    return bullet_list(parts)


def _trackers(state: State, project_id: str) -> str:
    items = []
    for link in state.project_links(project_id):
        tickets = ", ".join(
            escape(t.key)
            + (
                f" <span class=id>(incident {escape(t.incident_id)})</span>"
                if t.incident_id
                else ""
            )
            for t in link.tickets_by_key.values()
        )
        items.append(
            f"<li>{escape(link.name)} <span class=muted>({escape(link.system_name)}, link "
            f"{escape(link.id)})</span>: {tickets}</li>"
        )
    return bullet_list(items, empty="<p class=muted>none</p>")


def render_index(state: State) -> str:
    sections = []
    for project in state.projects.values():
        sections.append(
            f"<h2>Project {escape(project.name)} <span class=id>{escape(project.id)}</span></h2>"
            f"<h3>Defect trackers</h3>{_trackers(state, project.id)}"
            f"<h3>Script packages</h3>{_package_tree(state, 'script', project.id)}"
            f"<h3>Execution packages</h3>{_package_tree(state, 'execution', project.id)}"
        )
    header = (
        "<h1>Enterprise Tester emulator</h1>"
        f"<p class=muted>{len(state.runs)} run(s), {len(state.incidents)} incident(s), "
        f"{len(state.attachments)} attachment(s), "
        f"{len(state.tasks)} background task(s) on record.</p>"
    )
    return html_page("Enterprise Tester emulator", header + "".join(sections), _CSS)


def render_run(state: State, run: Run) -> str:
    assignment = state.assignments[run.assignment_id]
    test = state.tests[assignment.test_id]
    package = state.packages[assignment.package_id]
    body = (
        '<p><a href="?">&larr; all projects</a></p>'
        f"<h1>Run of {escape(test.name)}</h1>"
        f"<p>{status_badge(run.status)} in {escape(state.package_path(package))}, imported "
        f"{escape(format_time(run.imported_at))} by {escape(run.run_by.login)}; started "
        f"{escape(format_time(run.started_at))}, finished {escape(format_time(run.finished_at))}."
        f"<br>{_totals(run)} <span class=id>{escape(run.id)}</span></p>"
        f"{_run_attachments(state, run)}{_nodes_table(state, run, None)}"
    )
    return html_page(f"Run of {test.name}", body, _CSS)
