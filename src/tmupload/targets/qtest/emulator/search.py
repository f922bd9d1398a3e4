"""``POST /api/v3/projects/{projectId}/search`` (docs/servers/qtest.md §8), over a small query
language.

docs/servers/qtest.md §8 gives the rules: criteria names in single quotes when they hold spaces,
spaces around operators, ``~`` contains and ``!~`` does not, ``is 'empty'`` / ``is 'not empty'``.
The criteria names themselves are [UNCONFIRMED]; [inference] this emulator knows ``id``, ``pid``,
``name`` everywhere, ``Automation Content`` on test runs and test cases, ``Status`` on test
runs and logs, ``Test Cycle`` (id or PID) on test runs, ``Test Run`` on test logs, and answers
400 naming any other criterion. Criteria join with ``and`` / ``or`` (``and`` binds tighter, no
parentheses); ``=`` is exact, ``~`` ignores case; a quote inside a value is ``\\'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from .base import ResourceBase
from .protocol import ApiError, Request, Response, json_response, page_of
from .state import State
from .views import cycle_view, defect_object, log_view, release_view, run_view, test_case_view

__all__ = ["SearchResources", "parse_query"]

OBJECT_TYPES = (
    "releases",
    "requirements",
    "test-cases",
    "test-runs",
    "test-suites",
    "test-cycles",
    "test-logs",
    "builds",
    "defects",
)
_TOKEN = re.compile(r"\s*(?:'((?:\\.|[^'\\])*)'|(!=|!~|<=|>=|=|~|<|>)|([^\s'=!~<>]+))")

Criterion = tuple[str, str, str]  # (name lower-cased, operator, value)


def parse_query(text: str) -> list[list[Criterion]]:
    """``'a' = 'x' and 'b' ~ 'y' or ...`` -> OR-list of AND-lists of criteria."""
    tokens: list[tuple[str, str]] = []  # (kind, text): kind q(uoted), o(perator), w(ord)
    position, text = 0, text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ApiError(400, f"Cannot parse the query near: {text[position:]!r}")
        quoted, operator, word = match.groups()
        if quoted is not None:
            tokens.append(("q", re.sub(r"\\(.)", r"\1", quoted)))
        elif operator is not None:
            tokens.append(("o", operator))
        else:
            tokens.append(("w", word))
        position = match.end()
    groups: list[list[Criterion]] = [[]]
    index = 0
    while index < len(tokens):
        if len(tokens) - index < 3:
            raise ApiError(400, f"Incomplete criterion in the query: {text!r}")
        (_, name), (kind, operator), (value_kind, value) = tokens[index : index + 3]
        if kind == "w" and operator.lower() == "is":
            operator = "is"
        elif kind != "o":
            raise ApiError(400, f"Expected an operator after '{name}' in the query: {text!r}")
        if value_kind == "o":
            raise ApiError(400, f"Expected a value after '{name} {operator}': {text!r}")
        groups[-1].append((name.strip().lower(), operator, value))
        index += 3
        if index < len(tokens):
            joiner = tokens[index][1].lower()
            if tokens[index][0] != "w" or joiner not in ("and", "or"):
                raise ApiError(400, f"Expected 'and' or 'or' in the query: {text!r}")
            if joiner == "or":
                groups.append([])
            index += 1
    return [group for group in groups if group]


_BASIC = frozenset({"id", "pid", "name"})
#: The criteria names each object type knows [inference].
CRITERIA: dict[str, frozenset[str]] = {
    "test-cases": _BASIC | {"automation content"},
    "test-runs": _BASIC | {"automation content", "status", "test cycle"},
    "test-logs": frozenset({"id", "status", "test run"}),
}


def _check(groups: list[list[Criterion]], object_type: str) -> None:
    known = CRITERIA.get(object_type, _BASIC)
    for group in groups:
        for name, operator, _ in group:
            if name not in known:
                names = ", ".join(f"'{k}'" for k in sorted(known))
                raise ApiError(
                    400, f"Unknown criterion '{name}' for {object_type} (known: {names})."
                )
            if operator in ("<", ">", "<=", ">="):
                raise ApiError(400, f"The operator {operator} is not supported by the emulator.")


def _matches(values: dict[str, list[str]], criterion: Criterion) -> bool:
    name, operator, value = criterion
    have = values[name]
    if operator == "is":
        empty = not any(have)
        return empty if value.lower() == "empty" else not empty
    if operator == "=":
        return value in have
    if operator == "!=":
        return value not in have
    if operator in ("~", "!~"):
        found = any(value.lower() in item.lower() for item in have)
        return found if operator == "~" else not found
    return False


def _rows(
    state: State, project_id: int, object_type: str, root: str, *, strict: bool = False
) -> list[Any]:
    """(criteria values, view) of every object of the type in the project, by id. ``strict``:
    test runs show no Automation Content (``EmulatorConfig.strict``); test cases still do."""
    rows: list[tuple[int, dict[str, list[str]], Callable[[], dict[str, Any]]]] = []
    if object_type == "test-cycles":
        for c in state.cycles.values():
            if c.project_id == project_id:
                values = {"id": [str(c.id)], "pid": [c.pid], "name": [c.name]}
                rows.append((c.id, values, partial(cycle_view, state, c, root)))
    elif object_type == "releases":
        for r in state.releases.values():
            if r.project_id == project_id:
                values = {"id": [str(r.id)], "pid": [r.pid], "name": [r.name]}
                rows.append((r.id, values, partial(release_view, r, root)))
    elif object_type == "test-cases":
        for t in state.test_cases.values():
            if t.project_id == project_id:
                values = {
                    "id": [str(t.id)],
                    "pid": [t.pid],
                    "name": [t.name],
                    "automation content": [t.automation_content],
                }
                rows.append((t.id, values, partial(test_case_view, state, t, root)))
    elif object_type == "test-runs":
        for run in state.runs.values():
            if run.project_id == project_id:
                cycle = state.cycles[run.cycle_id]
                values = {
                    "id": [str(run.id)],
                    "pid": [run.pid],
                    "name": [run.name],
                    "automation content": [run.automation_content],
                    "status": [state.run_status(run)],
                    "test cycle": [str(cycle.id), cycle.pid],
                }
                view = partial(run_view, state, run, root, automation=not strict)
                rows.append((run.id, values, view))
    elif object_type == "test-logs":
        for log in state.logs.values():
            run = state.runs[log.run_id]
            if run.project_id == project_id:
                values = {
                    "id": [str(log.id)],
                    "status": [log.status],
                    "test run": [str(run.id), run.pid],
                }
                rows.append((log.id, values, partial(log_view, state, log, root)))
    elif object_type == "defects":
        for d in state.defects.values():
            if d.project_id == project_id:
                values = {"id": [str(d.id)], "pid": [d.key], "name": [d.key]}
                rows.append((d.id, values, partial(defect_object, d)))
    # requirements, test-suites, builds: the emulator has none
    return sorted(rows, key=lambda row: row[0])


class SearchResources(ResourceBase):
    def post_search(self, request: Request, project_id: str) -> Response:
        """docs/servers/qtest.md §8: ``{object_type, fields, query}`` ->
        ``{page, page_size, total, items}``, paged by the query's ``page`` (1-based) and
        ``pageSize`` (default 100, cut to 999, docs/servers/qtest.md §2)."""
        project = self.project(project_id)
        body = request.json_object()
        object_type = body.get("object_type")
        if object_type not in OBJECT_TYPES:
            raise ApiError(400, f"object_type must be one of {', '.join(OBJECT_TYPES)}.")
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise ApiError(400, "query must be a string.")
        fields = body.get("fields") or ["*"]
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ApiError(400, "fields must be an array of field names.")
        page = page_of(request)
        groups = parse_query(query)
        _check(groups, object_type)
        rows = _rows(self.state, project.id, object_type, request.root, strict=self.strict)
        shortcut = _any_of(groups)
        if shortcut is not None:
            name, wanted = shortcut
            hits = [view for _, values, view in rows if not wanted.isdisjoint(values[name])]
        else:
            hits = [view for _, values, view in rows if _selected(values, groups)]
        items = [_fields(view(), fields) for view in page.slice(hits)]
        return json_response(
            200, {"page": page.number, "page_size": page.size, "total": len(hits), "items": items}
        )


def _any_of(groups: list[list[Criterion]]) -> tuple[str, frozenset[str]] | None:
    """``'x' = a or 'x' = b or …`` as (x, {a, b, …}): one set lookup an object instead of a
    comparison per term (a query of 200 ids over 10,000 test cases cost a minute)."""
    if not groups or any(len(group) != 1 or group[0][1] != "=" for group in groups):
        return None
    names = {group[0][0] for group in groups}
    if len(names) != 1:
        return None
    return names.pop(), frozenset(group[0][2] for group in groups)


def _selected(values: dict[str, list[str]], groups: list[list[Criterion]]) -> bool:
    if not groups:
        return True
    return any(all(_matches(values, c) for c in group) for group in groups)


def _fields(view: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """``["*"]`` keeps everything; [inference] otherwise ``id`` plus the named fields."""
    if "*" in fields:
        return view
    return {key: value for key, value in view.items() if key == "id" or key in fields}
