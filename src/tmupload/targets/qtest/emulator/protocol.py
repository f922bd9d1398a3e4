"""HTTP plumbing of the qTest emulator: request and response values, errors, dates, paging."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, ClassVar

from tmupload.emulation.protocol import ApiError, Response, Wire, iso_timestamp, reason
from tmupload.emulation.protocol import Request as BaseRequest

__all__ = [
    "JSON_CONTENT_TYPE",
    "WIRE",
    "ApiError",
    "Page",
    "Request",
    "Response",
    "error_body",
    "error_response",
    "file_response",
    "format_time",
    "header_safe",
    "html_response",
    "json_response",
    "page_of",
    "parse_time",
    "reason",
    "safe_content_type",
]

JSON_CONTENT_TYPE = "application/json;charset=UTF-8"

#: docs/servers/qtest.md §2: ``pageSize`` goes "up to 999", default 100; ``page`` is 1-based,
#: default 1.
MAX_PAGE_SIZE = 999
DEFAULT_PAGE_SIZE = 100


def error_body(message: str) -> dict[str, Any]:
    """docs/servers/qtest.md §9: ``ErrorMessage`` is ``{"message", "additionalInfo"}``; clients read
    ``message``."""
    return {"message": message, "additionalInfo": {}}


WIRE = Wire(JSON_CONTENT_TYPE, lambda status, message: error_body(message))
json_response = WIRE.json
error_response = WIRE.error
html_response = Wire.html


@dataclass
class Request(BaseRequest):
    """One request, as the handlers see it (``path``: the full path; ``root``: the prefix
    of ``web_url`` and ``links``)."""

    empty_body: ClassVar[str] = "Bad request - the request body is empty; JSON was expected."
    not_json: ClassVar[str] = "Bad request - the body is not valid JSON: {error}"
    not_object: ClassVar[str] = "Bad request - the request body must be a JSON object."

    #: Query parameters by name (case kept, Spring matches them exactly), every value.
    query: dict[str, list[str]] = field(default_factory=dict)
    login: str = ""

    def param(self, name: str, default: str = "") -> str:
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        return list(self.query.get(name, []))


def header_safe(text: str) -> str:
    """``text`` fit for a header value: printable ASCII without quotes or backslashes."""
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in text)


_MEDIA_TYPE = re.compile(r"[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=[\w.+-]+)*", re.ASCII)


def safe_content_type(text: str) -> str:
    """A submitted ``content_type`` when it is a plain media type, else octet-stream."""
    return text if _MEDIA_TYPE.fullmatch(text.strip()) else "application/octet-stream"


def file_response(name: str, content_type: str, data: bytes, disposition: str) -> Response:
    """A stored file's bytes; ``disposition`` is ``inline`` (the page) or ``attachment``."""
    header = f'{disposition}; filename="{header_safe(name)}"'
    return Response(200, data, safe_content_type(content_type), [("Content-Disposition", header)])


def format_time(timestamp: float) -> str:
    """docs/servers/qtest.md §2: ISO 8601, written like the vendor plugin's
    ``yyyy-MM-dd'T'HH:mm:ss.SSSZZ``."""
    moment = datetime.fromtimestamp(timestamp, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+00:00"


_COMPACT_OFFSET = re.compile(r"([+-]\d{2})(\d{2})$")


def parse_time(value: Any) -> float | None:
    """An ISO 8601 date-time (docs/servers/qtest.md §2) as epoch seconds, or None when it is not
    one.

    Accepts ``Z``, ``+00:00`` and ``+0000`` offsets (Python 3.10's ``fromisoformat`` knows
    only the second). [inference] a time without an offset is taken as UTC.
    """
    if not isinstance(value, str) or "T" not in value:
        return None
    text = value.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    text = _COMPACT_OFFSET.sub(r"\1:\2", text)
    # 3.10's fromisoformat wants 3 or 6 fraction digits
    main, dot, rest = text.partition(".")
    if dot:
        digits = re.match(r"\d*", rest)
        frac = digits.group(0) if digits else ""
        tail = rest[len(frac) :]
        if not frac:
            return None
        text = f"{main}.{(frac + '000000')[:6]}{tail}"
    return iso_timestamp(text)


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    #: None: every item (docs/servers/qtest.md §2: a negative pageSize without page on
    #: ``GET /test-cycles``).
    everything: bool = False

    def slice(self, items: list[Any]) -> list[Any]:
        if self.everything:
            return list(items)
        start = (self.number - 1) * self.size
        return items[start : start + self.size]


def page_of(request: Request, *, negative_means_all: bool = False) -> Page:
    """``page``/``pageSize`` of docs/servers/qtest.md §2.

    [inference] a ``pageSize`` above 999 is cut to 999 (the spec says "up to 999"); a page
    below 1, a pageSize of 0 or text that is not a number answers 400.
    """
    raw_page, raw_size = request.param("page"), request.param("pageSize")
    try:
        number = int(raw_page) if raw_page else 1
        size = int(raw_size) if raw_size else DEFAULT_PAGE_SIZE
    except ValueError:
        raise ApiError(400, "page and pageSize must be integers.") from None
    if size < 0 and negative_means_all and not raw_page:
        return Page(1, 0, everything=True)
    if number < 1 or size < 1:
        raise ApiError(400, f"Invalid paging: page={raw_page!r}, pageSize={raw_size!r}.")
    return Page(number, min(size, MAX_PAGE_SIZE))
