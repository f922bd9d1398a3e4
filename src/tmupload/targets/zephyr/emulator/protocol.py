"""HTTP plumbing of the emulator: request and response values, error bodies, JSON, dates.

docs/servers/zephyr.md §6: there is no documented error envelope, but error bodies are JSON with an
``errorCode`` key [CLIENT], and a 401's ``message`` is itself a JSON string whose ``message`` the
vendor plugin reads [CLIENT]. [inference] Other errors carry ``errorCode``, ``errorMsg`` and
``message`` (the same text), so a client that reads any of them finds it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tmupload.emulation.protocol import ApiError, Response, Wire, reason
from tmupload.emulation.protocol import Request as BaseRequest

__all__ = [
    "JSON_CONTENT_TYPE",
    "WIRE",
    "ApiError",
    "Request",
    "Response",
    "as_int",
    "error_response",
    "html_response",
    "json_response",
    "parse_us_date",
    "reason",
    "unauthorized_response",
    "us_date",
]

JSON_CONTENT_TYPE = "application/json"

#: [inference] the ``errorCode`` values; the reference shows none.
_CODES = {
    400: "INVALID_REQUEST",
    401: "AUTHENTICATION_FAILED",
    403: "ACCESS_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


def _error_body(status: int, message: str) -> dict[str, Any]:
    code = _CODES.get(status, f"HTTP_{status}")
    return {"errorCode": code, "errorMsg": message, "message": message}


WIRE = Wire(JSON_CONTENT_TYPE, _error_body)
json_response = WIRE.json
error_response = WIRE.error
html_response = Wire.html


@dataclass
class Request(BaseRequest):
    """One REST request, as the handlers see it (``path``: below
    ``/flex/services/rest/<version>``, or the upload path, as sent)."""

    #: Query parameters, keys lower-cased, first value of each.
    query: dict[str, str] = field(default_factory=dict)
    #: The authenticated user's numeric id (0 before authentication).
    user_id: int = 0

    def param(self, name: str, default: str = "") -> str:
        """A query parameter by case-insensitive name."""
        return self.query.get(name.lower(), default)

    def int_param(self, name: str, default: int | None = None) -> int | None:
        text = self.param(name).strip()
        if not text:
            return default
        try:
            return int(text)
        except ValueError:
            raise ApiError(400, f"Query parameter {name} must be a number, got {text!r}.") from None

    def flag(self, name: str) -> bool:
        return self.param(name).strip().lower() == "true"

    def check_media_type(self) -> None:
        """docs/servers/zephyr.md §2 wants ``application/json`` on POST/PUT bodies."""
        if "json" not in self.content_type.lower():
            # [inference] a JSON body sent with another media type is refused
            # (docs/servers/zephyr.md §2 [DOC]).
            raise ApiError(
                415 if self.content_type else 400,
                f"Content-Type must be application/json, got {self.content_type or 'none'!r}.",
            )

    def json_list(self, limit: int) -> list[Any]:
        """A JSON array of at most ``limit`` items (docs/servers/zephyr.md §2: bulk calls carry
        ≤500)."""
        data = self.json()
        if not isinstance(data, list):
            raise ApiError(400, "The request body must be a JSON array.")
        if len(data) > limit:
            raise ApiError(400, f"Too many items: {len(data)}; a bulk call takes at most {limit}.")
        return data


def unauthorized_response(message: str) -> Response:
    """docs/servers/zephyr.md §6 [CLIENT]: the vendor parses ``message`` as JSON and reads its
    ``message``."""
    inner = json.dumps({"errorCode": _CODES[401], "message": message})
    return json_response(401, {"errorCode": _CODES[401], "message": inner})


def as_int(value: Any, what: str, *, required: bool = True) -> int | None:
    """A JSON number or numeric string as int (the plugin sends ``status`` as ``"2"``,
    docs/servers/zephyr.md §5.6)."""
    if value is None or value == "":
        if required:
            raise ApiError(400, f"{what} is required.")
        return None
    if isinstance(value, bool):
        raise ApiError(400, f"{what} must be a number, got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ApiError(400, f"{what} must be a number, got {value!r}.")


def parse_us_date(value: Any, what: str) -> int | None:
    """``MM/dd/yyyy`` (docs/servers/zephyr.md §2 [DOC]) as epoch ms at UTC midnight; absent is
    None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"{what} must be a MM/dd/yyyy string, got {value!r}.")
    try:
        moment = datetime.strptime(value.strip(), "%m/%d/%Y").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ApiError(400, f"{what} must be MM/dd/yyyy, got {value!r}.") from None
    return int(moment.timestamp() * 1000)


def us_date(ms: int | None) -> str | None:
    """Epoch ms as ``MM/dd/yyyy`` (UTC), the request format echoed in responses
    (docs/servers/zephyr.md §5.4)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%m/%d/%Y")
