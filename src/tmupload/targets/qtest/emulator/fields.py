"""Parsers of the fields inside one submitted test log (docs/servers/qtest.md §4.3), for
automation.py.

Each parser appends what is wrong to ``problems`` (a message per problem) and returns what
it could read, so one pass reports every problem of a log.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from .state import State, StepLog

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "parse_attachments",
    "parse_defect_keys",
    "parse_status",
    "parse_steps",
    "parse_text",
]

#: [inference] the attachment type when a log does not send ``content_type``.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


def parse_text(raw: dict[str, Any], key: str, problems: list[str], *, required: bool) -> str:
    value = raw.get(key)
    if value is None or (required and value == ""):
        if required:
            problems.append(f"{key} is required.")
        return ""
    if not isinstance(value, str):
        problems.append(f"{key} must be a string, got {type(value).__name__}.")
        return ""
    return value


def parse_status(state: State, value: str, where: str, problems: list[str]) -> str:
    """docs/servers/qtest.md §6: the automation status string, mapped to an execution status
    (case-insensitive [inference])."""
    mapped = state.config.status_map.get(value.strip().upper())
    if mapped is None and value:
        known = ", ".join(sorted(state.config.status_map))
        problems.append(f"{where} '{value}' is not a mapped automation status (known: {known}).")
    return mapped or ""


def parse_attachments(raw: Any, where: str, problems: list[str]) -> list[tuple[str, str, bytes]]:
    """docs/servers/qtest.md §4.3 ``AttachmentResource``: ``name``, ``content_type``, ``data``
    (base64)."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{where} must be an array.")
        return []
    found = []
    for number, item in enumerate(raw):
        label = f"{where}[{number}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
            problems.append(f"{label} needs a non-empty name.")
            continue
        data = item.get("data")
        if not isinstance(data, str):
            problems.append(f"{label} ({item['name']}) needs data: the base64 of the file.")
            continue
        try:
            decoded = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"{label} ({item['name']}) data is not valid base64.")
            continue
        content_type = item.get("content_type") or DEFAULT_CONTENT_TYPE
        found.append((item["name"], str(content_type), decoded))
    return found


def parse_steps(state: State, raw: Any, problems: list[str]) -> list[StepLog]:
    """docs/servers/qtest.md §4.3 ``AutomationTestStepLog``; ``order`` must run 0, 1, 2… when
    present."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(s, dict) for s in raw):
        problems.append("test_step_logs must be an array of objects.")
        return []
    steps = []
    for number, step in enumerate(raw):
        where = f"test_step_logs[{number}]"
        local: list[str] = []
        description = parse_text(step, "description", local, required=True)
        expected = parse_text(step, "expected_result", local, required=True)
        actual = parse_text(step, "actual_result", local, required=False)
        status = parse_status(
            state, parse_text(step, "status", local, required=True), "status", local
        )
        problems.extend(f"{where}: {p}" for p in local)
        order = step.get("order")
        steps.append(
            StepLog(order if isinstance(order, int) else -1, description, expected, actual, status)
        )
    orders = [s.get("order") for s in raw]
    if any(o is not None for o in orders):
        if sorted(o for o in orders if isinstance(o, int)) != list(range(len(raw))):
            problems.append(
                "test_step_logs order must be a continuous series of numbers starting from zero."
            )
        steps.sort(key=lambda s: s.order)
    else:
        # docs/servers/qtest.md §4.3: without orders, steps are sorted alphabetically
        steps.sort(key=lambda s: s.description)
        for number, step in enumerate(steps):
            step.order = number
    return steps


def parse_defect_keys(raw: Any, problems: list[str]) -> list[str]:
    """docs/servers/qtest.md §4.3: an array of strings. [inference] an item may hold several keys
    separated by commas, as the spec's example ``"MTR-1,MTR-2"`` shows."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
        problems.append("defect_pids must be an array of strings.")
        return []
    keys: list[str] = []
    for item in raw:
        keys.extend(part.strip() for part in item.split(",") if part.strip())
    return list(dict.fromkeys(keys))
