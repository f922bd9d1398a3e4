"""The values an emulator's handlers work with: the request, the answer, the error.

Each server writes its JSON answers and error bodies its own way; a :class:`Wire` holds that
way (the JSON content type, the error body) and makes the answers, so the handlers of every
emulator speak through the same few functions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, ClassVar

__all__ = ["ApiError", "Request", "Response", "Wire", "iso_timestamp", "reason"]


class ApiError(Exception):
    """An answer other than success; the emulator turns it into the server's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Request:
    """One API request, as the handlers see it. Each server adds its query and caller fields
    and words the answers to a body that is not the JSON it wants."""

    #: The 400 messages of :meth:`json` and :meth:`json_object` (``{error}``: the parser's).
    empty_body: ClassVar[str] = "The request body is empty; JSON was expected."
    not_json: ClassVar[str] = "The request body is not valid JSON: {error}"
    not_object: ClassVar[str] = "The request body must be a JSON object."

    method: str
    #: The path below the server's API prefix (or the full path, for a server without one).
    path: str
    body: bytes
    content_type: str
    #: ``scheme://host`` of the request plus the application path: the prefix of the links
    #: the server writes into its answers ("" where it writes none).
    root: str = ""

    def check_media_type(self) -> None:
        """Refuse a JSON body sent with the wrong media type (a server that cares overrides)."""

    def json(self) -> Any:
        """The body parsed as JSON; an empty or malformed body is a 400."""
        if not self.body.strip():
            raise ApiError(400, self.empty_body)
        self.check_media_type()
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, self.not_json.format(error=exc)) from None

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object (400 if it is another JSON value)."""
        data = self.json()
        if not isinstance(data, dict):
            raise ApiError(400, self.not_object)
        return data


@dataclass(frozen=True)
class Wire:
    """How one server writes its answers: the JSON content type and the error body."""

    json_type: str
    #: ``(status, message)`` -> the JSON of an error answer.
    error_body: Callable[[int, str], Any]
    #: The key of a plain ``{key: text}`` message (the emulator's own control answers).
    message_key: str = "message"

    def json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return Response(status, body, self.json_type, list((headers or {}).items()))

    def error(self, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        return self.json(status, self.error_body(status, message), headers)

    def message(self, status: int, text: str) -> Response:
        return self.json(status, {self.message_key: text})

    @staticmethod
    def html(status: int, text: str) -> Response:
        return Response(status, text.encode("utf-8"), "text/html; charset=utf-8")


def reason(status: int) -> str:
    """The reason phrase of a status line ("Unknown" for a status HTTP does not name)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def iso_timestamp(text: str) -> float | None:
    """``datetime.fromisoformat(text)`` as epoch seconds, a time without a zone taken as UTC;
    None when it is not one."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()
