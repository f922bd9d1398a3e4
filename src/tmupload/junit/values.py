"""Reading the values JUnit attributes hold: durations, timestamps, tag names."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from tmupload.errors import InputError

__all__ = ["bad_input", "local_name", "parse_duration", "parse_timestamp"]

_THOUSANDS = re.compile(r"^[1-9]\d{0,2}(,\d{3})+$")
_TIMESTAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


def parse_duration(text: str | None) -> float:
    """Seconds from a ``time`` attribute: missing or garbage -> 0, ``1,234.5`` -> 1234.5.

    A comma is a thousands separator when the value also has a point or is grouped in threes
    (Surefire formats with the JVM locale); otherwise it is a decimal comma (``0,25``).
    """
    if not text:
        return 0.0
    value = text.strip()
    if "," in value:
        thousands = "." in value or _THOUSANDS.match(value)
        value = value.replace(",", "") if thousands else value.replace(",", ".")
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) and number >= 0 else 0.0


def parse_timestamp(text: str | None) -> datetime | None:
    """An ISO 8601 ``timestamp`` attribute as an aware datetime, or None when unreadable.

    Without an offset the time is taken as UTC: jest-junit writes UTC that way, and CI runners
    mostly run in UTC [inference: JUnit's schema does not say].
    """
    match = _TIMESTAMP.match(text.strip()) if text else None
    if match is None:
        return None
    day, clock, fraction, offset = match.groups()
    if clock.count(":") == 1:
        clock += ":00"
    micros = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if offset is None or offset.upper() == "Z" else offset
    if len(zone) == 5:  # +0200
        zone = f"{zone[:3]}:{zone[3:]}"
    try:
        return datetime.fromisoformat(f"{day}T{clock}.{micros}{zone}")
    except ValueError:
        return None


def local_name(tag: str) -> str:
    """The tag without a namespace (``{uri}testcase`` -> ``testcase``)."""
    return tag if tag[0] != "{" else tag[tag.rfind("}") + 1 :]


def bad_input(path: Path, where: str, problem: str, fix: str) -> NoReturn:
    """Raise the one message a bad input gets: the file, where in it, what is wrong, the fix."""
    raise InputError(f"{path}: {where}{problem}; {fix}")
