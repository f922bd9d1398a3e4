"""An emulator's table of API paths, and finding the handler of a request in it.

A path that matches no route is a 404, a method the route does not take a 405 (with
``Allow``), a write by a read-only caller a 403; each server words the three messages itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from .protocol import ApiError, Request, Response

__all__ = ["READS", "Caller", "Found", "Handler", "Route", "RouteTable", "Wording"]

Handler = Callable[..., Response]

#: Methods a read-only caller may use on a route, unless the route says otherwise.
READS = frozenset({"GET"})


class Caller(Protocol):
    """Who sent an authenticated request."""

    @property
    def login(self) -> str: ...

    @property
    def readonly(self) -> bool: ...


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    methods: Mapping[str, Handler]
    #: Methods a read-only caller may use here (a search by POST only reads).
    reads: frozenset[str] = READS


@dataclass(frozen=True)
class Found:
    """The handler of a request and the path segments its route captured."""

    handler: Handler
    groups: tuple[str, ...]


@dataclass(frozen=True)
class Wording:
    """The messages of a 404, a 405 and a 403, as ``str.format`` templates of ``method``,
    ``path`` (the request's, as sent) and ``login``."""

    not_found: str
    not_allowed: str
    forbidden: str


class RouteTable:
    """Routes tried in order; the first whose pattern matches the whole path decides."""

    def __init__(
        self,
        table: Iterable[tuple[str, Mapping[str, Handler]] | Route],
        wording: Wording,
    ) -> None:
        self.routes = [
            entry if isinstance(entry, Route) else Route(re.compile(entry[0]), entry[1])
            for entry in table
        ]
        self.wording = wording

    def find(self, request: Request, path: str, caller: Caller) -> Found:
        """The handler of ``request`` for the normalised ``path``, or the ApiError to answer."""
        words = self.wording
        for route in self.routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            handler = route.methods.get(request.method)
            if handler is None:
                allowed = ", ".join(sorted(route.methods))
                message = words.not_allowed.format(method=request.method, path=request.path)
                raise ApiError(405, message, {"Allow": allowed})
            if caller.readonly and request.method not in route.reads:
                message = words.forbidden.format(
                    method=request.method, path=request.path, login=caller.login
                )
                raise ApiError(403, message)
            return Found(handler, match.groups())
        raise ApiError(404, words.not_found.format(path=request.path))
