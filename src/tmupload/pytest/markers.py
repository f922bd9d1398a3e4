"""Ticket keys from ``@pytest.mark.ticket``: validated at collection, carried as user properties.

Markers only exist where items exist (on xdist workers), so the keys are copied into
``item.user_properties``: they travel with every report to the controller, and
``--junitxml`` writes them as ``<property name="ticket" value="KEY"/>`` so that a later
``tmupload import`` of that file links the same way. This runs whether or not upload is on;
it is pure and only touches items that carry the marker.
"""

from __future__ import annotations

import pytest

from tmupload.errors import InputError
from tmupload.tickets import TICKET_LINK_PROPERTY, TICKET_PROPERTY, validate_key

__all__ = ["MARKER_HELP", "record_ticket_markers", "ticket_properties"]

MARKER_HELP = (
    'ticket("KEY-1", ..., external_system_link=None): link this test\'s failures to these '
    "defect tickets in the test-management server"
)


def ticket_properties(item: pytest.Item) -> list[tuple[str, str]]:
    """The (name, value) user properties for every ticket marker on an item."""
    properties: list[tuple[str, str]] = []
    seen: set[str] = set()
    system: str | None = None
    # iter_marks walks function, class and module (pytestmark), closest first.
    for mark in item.iter_markers(name="ticket"):
        where = f"{item.nodeid}: @pytest.mark.ticket"
        if not mark.args:
            raise InputError(f"{where} needs at least one ticket key, e.g. ticket('PAY-17')")
        unknown = set(mark.kwargs) - {"external_system_link"}
        if unknown:
            raise InputError(
                f"{where} got unknown argument(s) {sorted(unknown)}; "
                "only external_system_link= is accepted"
            )
        link = mark.kwargs.get("external_system_link")
        if link is not None:
            if not isinstance(link, str) or not link.strip():
                raise InputError(f"{where}: external_system_link must be a non-empty name or id")
            system = system or link.strip()
        for raw in mark.args:
            key = validate_key(raw, where)
            if key not in seen:
                seen.add(key)
                properties.append((TICKET_PROPERTY, key))
    if system is not None and properties:
        properties.append((TICKET_LINK_PROPERTY, system))
    return properties


def record_ticket_markers(
    items: list[pytest.Item], *, strict: bool
) -> list[tuple[pytest.Item, str]]:
    """Copy ticket markers into ``user_properties``.

    ``strict`` (upload on): the first malformed marker raises InputError, since its links
    would be lost. Otherwise an item with a malformed marker keeps none of its keys and the
    (item, problem) pairs are returned, for a warning: a typo in a marker must not stop a
    developer's local run.
    """
    problems: list[tuple[pytest.Item, str]] = []
    for item in items:
        try:
            properties = ticket_properties(item)
        except InputError as exc:
            if strict:
                raise
            problems.append((item, str(exc)))
            continue
        if properties:
            existing = getattr(item, "user_properties", None)
            if existing is None:
                continue
            existing.extend(prop for prop in properties if prop not in existing)
    return problems
