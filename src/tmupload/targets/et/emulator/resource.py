"""What every ``/api`` resource shares: the state it serves, lookups, body fields, listings.

Listings follow docs/servers/et.md §2.5 (the ``{Skip, Top, Total, Items}`` envelope),
docs/servers/et.md §2.6 (OData ``$filter`` and ``$orderby``) and docs/servers/et.md §2.7 (TQL); the
parsing itself is in tql.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from .config import EmulatorConfig
from .entities import ResultNode, Run, Ticket, User
from .protocol import ApiError, Request, Response, json_response, normalize_guid
from .state import State
from .tql import Paging, QueryError, parse_filter, parse_orderby, parse_paging, parse_tql

__all__ = [
    "Getter",
    "ResourceBase",
    "contains",
    "lookup",
    "optional_text",
    "required_text",
    "same",
]

T = TypeVar("T")
#: The values of one queryable field of an entity (a package matches by id *or* by name).
Getter = Callable[[T], Sequence[str | None]]


def required_text(body: dict[str, Any], name: str) -> str:
    """A required non-empty string field; its absence is a validation failure: 403
    (docs/servers/et.md §2.3)."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(403, f"'{name}' is required and must be a non-empty string.")
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(403, f"'{name}' must be a string.")
    return value


def lookup(table: dict[str, T], raw_id: str, what: str) -> T:
    """An entity by (possibly non-canonical) id; unknown ids are 404 (docs/servers/et.md §2.3)."""
    guid = normalize_guid(raw_id)
    if guid is None or guid not in table:
        raise ApiError(404, f"No {what} with id '{raw_id}' was found.")
    return table[guid]


def same(value: str, candidates: Iterable[str | None]) -> bool:
    """[inference] TQL ``=`` and OData ``eq`` compare case-insensitively."""
    folded = value.casefold()
    return any(c is not None and c.casefold() == folded for c in candidates)


def contains(value: str, candidates: Iterable[str | None]) -> bool:
    """docs/servers/et.md §4.2: TQL ``~`` is a (case-insensitive) *contains*."""
    folded = value.casefold()
    return any(c is not None and folded in c.casefold() for c in candidates)


class ResourceBase:
    """The state and helpers the resource classes share. Handlers run under ``lock``."""

    config: EmulatorConfig
    lock: threading.RLock
    state: State

    def now(self) -> float:
        """The emulator's time (``EmulatorConfig.clock``)."""
        return self.config.clock.time()

    def _user(self, request: Request) -> User:
        return self.state.users[request.login]

    @staticmethod
    def _paging(request: Request) -> Paging:
        try:
            return parse_paging(
                request.param("$top"), request.param("$skip"), request.param("$inlinecount")
            )
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None

    @staticmethod
    def _envelope(
        items: Sequence[T], paging: Paging, render: Callable[[T], dict[str, Any]]
    ) -> dict[str, Any]:
        """docs/servers/et.md §2.5: ``{Skip, Top, Total, Items}``; only the window is rendered."""
        window = items[paging.skip : paging.skip + paging.top]
        data: dict[str, Any] = {"Skip": paging.skip, "Top": paging.top}
        if paging.inline_count:
            data["Total"] = len(items)
        data["Items"] = [render(item) for item in window]
        return data

    def _tql_page(
        self,
        request: Request,
        items: list[T],
        fields: dict[str, Getter[T]],
        render: Callable[[T, set[str]], dict[str, Any]],
    ) -> Response:
        """A TQL collection answered as a page of the paging envelope
        (docs/servers/et.md §2.5, §2.7)."""
        chosen = self._tql(request, items, fields)
        expand = request.expands()
        return json_response(
            200, self._envelope(chosen, self._paging(request), lambda item: render(item, expand))
        )

    def _odata(
        self,
        request: Request,
        items: list[T],
        fields: dict[str, Getter[T]],
        default_order: str | None = None,
    ) -> list[T]:
        """Apply ``$filter`` and ``$orderby`` (docs/servers/et.md §2.6); unsupported syntax is
        400."""
        try:
            clauses = parse_filter(request.param("$filter"), set(fields))
            order = parse_orderby(request.param("$orderby"), set(fields))
        except QueryError as exc:
            raise ApiError(400, str(exc)) from None
        for clause in clauses:
            getter = fields[clause.field]
            test = same if clause.op == "eq" else contains
            items = [item for item in items if test(clause.value, getter(item))]
        if order is None and default_order is not None:
            order = (default_order, False)
        if order is not None:
            getter = fields[order[0]]
            items = sorted(items, key=lambda item: str(getter(item)[0] or ""), reverse=order[1])
        return items

    def _tql(
        self,
        request: Request,
        items: list[T],
        fields: dict[str, Getter[T]],
        in_packages: Callable[[str], set[str]] | None = None,
        ident: Callable[[T], str] | None = None,
    ) -> list[T]:
        """Apply the ``tql`` parameter (docs/servers/et.md §2.7; subset in tql.py; errors are 400
        [inference])."""
        try:
            query = parse_tql(request.param("tql"))
        except QueryError as exc:
            raise ApiError(400, f"The TQL query cannot be used: {exc}") from None
        for condition in query.conditions:
            if condition.op == "in_packages":
                if in_packages is None or ident is None or condition.field != "id":
                    raise ApiError(400, "Id IN Packages(...) is only supported on packages.")
                wanted = in_packages(condition.value)
                items = [item for item in items if ident(item) in wanted]
                continue
            getter = fields.get(condition.field)
            if getter is None:
                raise ApiError(400, f"The TQL field '{condition.field}' is not supported here.")
            value = condition.value
            if condition.op == "~":  # docs/servers/et.md §4.2: '~' is *contains*
                items = [item for item in items if contains(value, getter(item))]
            elif condition.op == "=":
                items = [item for item in items if same(value, getter(item))]
            else:
                items = [item for item in items if not same(value, getter(item))]
        if query.order_by is not None:
            getter = fields.get(query.order_by)
            if getter is None:
                raise ApiError(400, f"ORDER BY '{query.order_by}' is not supported here.")
            items = sorted(
                items, key=lambda item: str(getter(item)[0] or ""), reverse=query.descending
            )
        return items

    def _ticket(self, link_id: str, ticket_id: str, status: int) -> Ticket:
        link = self.state.links.get(normalize_guid(link_id) or "")
        ticket = None
        if link is not None:
            ticket = next((t for t in link.tickets_by_key.values() if t.id == ticket_id), None)
        if ticket is None:
            raise ApiError(
                status, f"No ticket '{ticket_id}' in the external system link '{link_id}'."
            )
        return ticket

    def _node(self, run_id: str, node_id: str) -> tuple[Run, ResultNode]:
        run = lookup(self.state.runs, run_id, "automated test run")
        return run, lookup(run.nodes, node_id, "result node")
