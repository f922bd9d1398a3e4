"""HTTP plumbing shared by the emulator: request and response values, errors, JSON, timestamps."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import ClassVar

from tmupload.emulation import SOCKET_ENVIRON_KEY, EmulatedConnectionReset
from tmupload.emulation.protocol import ApiError, Response, Wire, iso_timestamp, reason
from tmupload.emulation.protocol import Request as BaseRequest

__all__ = [
    "EMPTY_GUID",
    "JSON_CONTENT_TYPE",
    "SOCKET_ENVIRON_KEY",
    "WIRE",
    "ApiError",
    "EmulatedConnectionReset",
    "Request",
    "Response",
    "error_response",
    "format_time",
    "html_response",
    "json_response",
    "new_guid",
    "normalize_guid",
    "parse_time",
    "reason",
]

#: docs/servers/et.md §2.2: the response header of every JSON answer.
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
#: docs/servers/et.md §5.3: the empty GUID as a node id returns a run's root nodes.
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"


WIRE = Wire(JSON_CONTENT_TYPE, lambda status, message: {"Message": message}, "Message")
json_response = WIRE.json
#: docs/servers/et.md §2.4: every answer other than success has a ``{"Message": ...}`` body.
error_response = WIRE.error
html_response = Wire.html


@dataclass
class Request(BaseRequest):
    """One request, as the handlers see it (``path``: below the application path, as sent,
    e.g. ``/api/project/<id>``; ``root`` ends with the application path)."""

    empty_body: ClassVar[str] = "The request body is empty; a JSON object was expected."

    #: Query parameters, keys lower-cased, first value of each.
    query: dict[str, str] = field(default_factory=dict)
    #: The authenticated login ("" before authentication).
    login: str = ""

    def param(self, name: str, default: str = "") -> str:
        """A query parameter by case-insensitive name."""
        return self.query.get(name.lower(), default)

    def expands(self) -> set[str]:
        """The lower-cased names of ``$expand`` (docs/servers/et.md §2.8: a comma-separated
        list)."""
        return {part.strip().lower() for part in self.param("$expand").split(",") if part.strip()}


_guid_bits = random.Random()  # seeded from the OS; ids need uniqueness, not secrecy
_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def new_guid() -> str:
    """A random (version 4) GUID string: ``uuid.uuid4()``'s format, three times faster."""
    digits = f"{(_guid_bits.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def normalize_guid(text: str) -> str | None:
    """The canonical lower-case form of a GUID, or None if ``text`` is not one."""
    try:
        return str(uuid.UUID(text.strip().strip("{}")))
    except (ValueError, AttributeError):
        return None


_SECOND_TEXT: dict[int, str] = {}


def format_time(timestamp: float) -> str:
    """ISO-8601 UTC with a ``Z`` suffix (docs/servers/et.md §2.2), with microseconds when there are
    any.

    Runs list many nodes stamped within the same few seconds, so the date-and-time part is
    cached per whole second (listing 100,000 nodes formats 200,000 timestamps).
    """
    # the rounding of datetime.fromtimestamp: split first, then round the fraction
    part, whole = math.modf(timestamp)
    fraction = round(part * 1_000_000)
    second = int(whole)
    if fraction >= 1_000_000:
        second, fraction = second + 1, fraction - 1_000_000
    elif fraction < 0:
        second, fraction = second - 1, fraction + 1_000_000
    text = _SECOND_TEXT.get(second)
    if text is None:
        if len(_SECOND_TEXT) > 4096:
            _SECOND_TEXT.clear()
        moment = datetime.fromtimestamp(second, tz=timezone.utc)
        text = _SECOND_TEXT[second] = moment.isoformat()[:-6]
    return f"{text}.{fraction:06d}Z" if fraction else f"{text}Z"


def parse_time(text: str) -> float | None:
    """An ISO-8601 timestamp as epoch seconds; a time without a zone is taken as UTC.

    [inference] JUnit writers differ: pytest writes a local time with an offset, others a
    naive time. Anything unparseable is None.
    """
    text = text.strip()
    if not text:
        return None
    if text[-1] in "zZ":
        text = text[:-1] + "+00:00"
    return iso_timestamp(text)
