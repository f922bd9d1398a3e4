"""``--tm-ticket-map FILE``: ticket keys for suites whose code cannot carry markers.

A TOML file maps node id globs (``fnmatch``: ``*`` matches across ``/`` and ``::``) to keys::

    [tickets]
    "tests/payments/*::test_refund*" = ["PAY-17", "PAY-18"]
    "tests/legacy/*" = "LEG-1"
    "*::TestLedger::*" = { keys = ["OPS-9"], external_system_link = "Jira Ops" }

Keys from the map are added to those from markers (never replacing them), for pytest runs and
for ``tmupload import`` alike.
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmupload.errors import InputError
from tmupload.models import RunReport, TicketRef
from tmupload.tickets import validate_key

__all__ = ["TicketMap", "load_ticket_map"]


@dataclass(frozen=True)
class _Rule:
    pattern: str
    keys: tuple[str, ...]
    external_system_link: str | None


@dataclass(frozen=True)
class TicketMap:
    path: Path
    rules: tuple[_Rule, ...]

    def tickets_for(self, case_id: str) -> list[TicketRef]:
        found: list[TicketRef] = []
        for rule in self.rules:
            if fnmatch.fnmatchcase(case_id, rule.pattern):
                found.extend(
                    TicketRef(key=key, external_system_link=rule.external_system_link)
                    for key in rule.keys
                )
        return found

    def apply(self, run: RunReport) -> int:
        """Add mapped keys to every matching case; return how many cases gained a key."""
        touched = 0
        for case in run.cases:
            known = {ticket.key for ticket in case.tickets}
            extra = [t for t in self.tickets_for(case.case_id) if t.key not in known]
            unique: dict[str, TicketRef] = {}
            for ticket in extra:
                unique.setdefault(ticket.key, ticket)
            if unique:
                case.tickets = [*case.tickets, *unique.values()]
                touched += 1
        return touched


def _load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the ticket map {path}: {exc.strerror}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"the ticket map {path} is not valid TOML: {exc}") from None


def load_ticket_map(path: Path) -> TicketMap:
    """Read and validate a ticket map; every problem names the file, the entry and the fix."""
    data = _load_toml(path)
    table = data.get("tickets")
    if not isinstance(table, dict):
        raise InputError(
            f"the ticket map {path} needs a [tickets] table mapping node id globs to keys, "
            'e.g. [tickets] "tests/test_pay.py::*" = ["PAY-17"]'
        )
    rules: list[_Rule] = []
    for pattern, value in table.items():
        where = f"{path}: entry {pattern!r}"
        system: str | None = None
        if isinstance(value, dict):
            unknown = set(value) - {"keys", "external_system_link"}
            if unknown:
                raise InputError(f"{where} has unknown field(s) {sorted(unknown)}")
            system = value.get("external_system_link")
            if system is not None and not isinstance(system, str):
                raise InputError(f"{where}: external_system_link must be a string")
            value = value.get("keys")
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise InputError(f"{where} must map to a key or a list of keys")
        keys = tuple(validate_key(key, where) for key in value)
        rules.append(_Rule(pattern, keys, system))
    return TicketMap(path, tuple(rules))
