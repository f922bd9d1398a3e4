"""How a server words its errors: the message field it uses and the hint each status gets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["ServerDialect", "error_body", "generic_message", "nothing_at"]

# What a status means whatever the server; a dialect adds or replaces hints.
_STATUS_HINTS = {
    403: "the account lacks a permission for this, or the server rejected the data",
    404: "not found: check the URL and the names in the settings",
    409: "the name is already in use on the server",
}


def error_body(response: httpx.Response) -> dict[str, Any] | str | None:
    """An error answer's JSON object to read the message from, or a short raw excerpt of a
    body that is not JSON (None: empty, or JSON but no object)."""
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return text[:300] or None
    return body if isinstance(body, dict) else None


def generic_message(response: httpx.Response) -> str | None:
    """A ``message``-like field of a JSON error body, or a short raw excerpt."""
    body = error_body(response)
    if not isinstance(body, dict):
        return body
    for key in ("Message", "message", "error_description", "error"):
        if isinstance(body.get(key), str):
            return str(body[key])
    return None


def nothing_at(
    method: str, url: str, status: int, message: str | None, flag: str, url_hint: str
) -> str:
    """The message for a 404 where the server must answer (its login, its first call): the
    URL tried, and that the URL setting is the likely mistake — not the login, not a name."""
    said = f' (server said: "{message}")' if message else ""
    return (
        f"{method} {url} answered HTTP {status}{said}: nothing is there, so {flag} is "
        f"probably wrong — it must be {url_hint}"
    )


@dataclass(frozen=True)
class ServerDialect:
    """How one server words its errors: its message field(s) and hints per status."""

    message: Callable[[httpx.Response], str | None] = generic_message
    hints: Mapping[int, str] = field(default_factory=dict)
    # What the URL setting must be, for a 404 where the server must answer (see nothing_at).
    url_hint: str = "the server's base URL"

    def hint(self, status: int) -> str:
        return self.hints.get(status) or _STATUS_HINTS.get(status, "")
