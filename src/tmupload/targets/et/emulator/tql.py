"""The tiny subsets of TQL (docs/servers/et.md §2.7) and OData (docs/servers/et.md §2.6) the
emulator understands.

TQL: conditions joined by ``AND``, each ``Field = value``, ``Field != value``, ``Field ~ value``
(``~`` is *contains*, case-insensitive) or ``Field IN Packages('name or path')``, and an
optional trailing ``ORDER BY Field [ASC|DESC]``. Values are single- or double-quoted strings
(a doubled quote inside stands for one) or bare words such as GUIDs, so the vendor's
``TestId=<guid> AND Package=<guid>`` (no quotes) parses too. ``OR``, parentheses and other
functions are refused with :class:`QueryError` (the API answers 400 [inference]).

OData: ``$filter`` with ``Field eq 'value'`` clauses joined by ``and`` plus the documented
``substringof('text',Field) eq true``; ``$orderby`` with one ``Field [asc|desc]``; ``$top``
(default 25, docs/servers/et.md §2.5), ``$skip`` and ``$inlinecount``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "DEFAULT_TOP",
    "Condition",
    "FilterClause",
    "Paging",
    "QueryError",
    "TqlQuery",
    "parse_filter",
    "parse_orderby",
    "parse_paging",
    "parse_tql",
]

#: docs/servers/et.md §2.5: ``$top`` defaults to 25.
DEFAULT_TOP = 25


class QueryError(ValueError):
    """A TQL or OData expression outside the supported subset."""


@dataclass(frozen=True)
class Condition:
    field: str  # lower-cased
    op: str  # "=", "!=", "~" or "in_packages"
    value: str


@dataclass(frozen=True)
class TqlQuery:
    conditions: tuple[Condition, ...] = ()
    order_by: str | None = None  # lower-cased field
    descending: bool = False


@dataclass(frozen=True)
class FilterClause:
    field: str  # lower-cased
    op: str  # "eq" or "contains"
    value: str


@dataclass(frozen=True)
class Paging:
    skip: int
    top: int
    inline_count: bool


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<op>!=|=|~|\(|\)|,)
      | (?P<word>[^\s'"=~!(),]+)
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise QueryError(f"cannot read the query at position {position}: {text[position:]!r}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "str":
            quote = value[0]
            value = value[1:-1].replace(quote * 2, quote)
        tokens.append((kind, value))
    return tokens


def parse_tql(text: str) -> TqlQuery:
    """Parse the supported TQL subset; an empty query matches everything."""
    tokens = _tokens(text)
    conditions: list[Condition] = []
    order_by: str | None = None
    descending = False
    i = 0

    def word(at: int) -> str:
        return tokens[at][1].lower() if at < len(tokens) and tokens[at][0] == "word" else ""

    while i < len(tokens):
        if word(i) == "order" and word(i + 1) == "by":
            if i + 2 >= len(tokens) or tokens[i + 2][0] != "word":
                raise QueryError("ORDER BY needs a field name")
            order_by = tokens[i + 2][1].lower()
            direction = word(i + 3)
            if direction in ("asc", "desc"):
                descending = direction == "desc"
                i += 1
            i += 3
            if i != len(tokens):
                raise QueryError("only one ORDER BY field is supported")
            break
        if conditions:
            if word(i) != "and":
                found = tokens[i][1]
                raise QueryError(f"expected AND between conditions, found {found!r}")
            i += 1
        condition, i = _condition(tokens, i)
        conditions.append(condition)
    return TqlQuery(tuple(conditions), order_by, descending)


def _condition(tokens: list[tuple[str, str]], i: int) -> tuple[Condition, int]:
    if i >= len(tokens) or tokens[i][0] != "word":
        raise QueryError("expected a field name")
    field = tokens[i][1].lower()
    if i + 1 >= len(tokens):
        raise QueryError(f"the condition on {field!r} is incomplete")
    kind, op = tokens[i + 1]
    if kind == "word" and op.lower() == "in":
        # Id IN Packages('<name or path>')
        expected = [("word", "packages"), ("op", "("), ("str", None), ("op", ")")]
        window = tokens[i + 2 : i + 6]
        if len(window) != 4 or any(
            got[0] != want[0] or (want[1] is not None and got[1].lower() != want[1])
            for got, want in zip(window, expected, strict=True)
        ):
            raise QueryError("only IN Packages('<name or path>') is supported")
        return Condition(field, "in_packages", window[2][1]), i + 6
    if kind != "op" or op not in ("=", "!=", "~"):
        raise QueryError(f"unsupported operator {op!r} after {field!r}")
    if i + 2 >= len(tokens) or tokens[i + 2][0] not in ("str", "word"):
        raise QueryError(f"the condition on {field!r} has no value")
    value = tokens[i + 2][1]
    if tokens[i + 2][0] == "word" and value.lower() in ("and", "or", "order"):
        raise QueryError(f"the condition on {field!r} has no value")
    return Condition(field, op, value), i + 3


_EQ = re.compile(r"^\s*(\w+)\s+eq\s+(?:'((?:[^']|'')*)'|([\w\-.]+))\s*$", re.IGNORECASE)
_SUBSTRINGOF = re.compile(
    r"^\s*substringof\(\s*'((?:[^']|'')*)'\s*,\s*(\w+)\s*\)\s+eq\s+true\s*$", re.IGNORECASE
)
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)


def parse_filter(text: str, fields: set[str]) -> list[FilterClause]:
    """Parse ``$filter``; ``fields`` are the lower-cased names the collection supports."""
    if not text.strip():
        return []
    clauses: list[FilterClause] = []
    for part in _AND.split(text.strip()):
        eq = _EQ.match(part)
        sub = _SUBSTRINGOF.match(part)
        if eq:
            literal = eq.group(2)
            value = literal.replace("''", "'") if literal is not None else eq.group(3)
            clause = FilterClause(eq.group(1).lower(), "eq", value)
        elif sub:
            clause = FilterClause(sub.group(2).lower(), "contains", sub.group(1).replace("''", "'"))
        else:
            raise QueryError(
                f"unsupported $filter expression {part!r}: the emulator knows "
                "Field eq 'value' (joined by 'and') and substringof('text',Field) eq true"
            )
        if clause.field not in fields:
            raise QueryError(f"$filter on {clause.field!r} is not supported here")
        clauses.append(clause)
    return clauses


def parse_orderby(text: str, fields: set[str]) -> tuple[str, bool] | None:
    """Parse ``$orderby`` into (lower-cased field, descending)."""
    parts = text.split()
    if not parts:
        return None
    if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
        raise QueryError(f"unsupported $orderby {text!r}: use 'Field', 'Field asc' or 'Field desc'")
    field = parts[0].lower()
    if field not in fields:
        raise QueryError(f"$orderby on {parts[0]!r} is not supported here")
    return field, len(parts) == 2 and parts[1].lower() == "desc"


def parse_paging(top: str, skip: str, inline_count: str) -> Paging:
    """Parse ``$top``, ``$skip`` and ``$inlinecount`` (``none`` drops ``Total`` [inference])."""

    def number(name: str, text: str, default: int) -> int:
        if not text.strip():
            return default
        try:
            value = int(text)
        except ValueError:
            raise QueryError(f"{name} must be a whole number, got {text!r}") from None
        if value < 0:
            raise QueryError(f"{name} must not be negative")
        return value

    mode = inline_count.strip().lower()
    if mode not in ("", "allpages", "none"):
        raise QueryError("$inlinecount must be 'allpages' or 'none'")
    return Paging(number("$skip", skip, 0), number("$top", top, DEFAULT_TOP), mode != "none")
