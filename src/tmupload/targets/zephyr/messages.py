"""What a Zephyr Enterprise error answer says (docs/servers/zephyr.md §6): its message, and
the hints our errors add per status."""

from __future__ import annotations

import json

import httpx

from tmupload.http.dialect import ServerDialect, error_body

__all__ = ["ZEPHYR_DIALECT", "zephyr_message"]


def _inner_message(text: str) -> str:
    """docs/servers/zephyr.md §6 [CLIENT]: a 401's ``message`` is itself JSON whose ``message`` is
    the text."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            inner = json.loads(stripped)
        except ValueError:
            return stripped
        if isinstance(inner, dict):
            for key in ("message", "errorMsg"):
                if isinstance(inner.get(key), str) and inner[key].strip():
                    return str(inner[key]).strip()
    return stripped


def zephyr_message(response: httpx.Response) -> str | None:
    """The text of a Zephyr error body (docs/servers/zephyr.md §6: no documented envelope;
    ``errorCode`` is seen, ``errorMsg`` is a guess, the plugin reads a nested ``message`` on
    401)."""
    body = error_body(response)
    if not isinstance(body, dict):
        return body
    for key in ("errorMsg", "message", "errorMessage", "error", "Message"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return _inner_message(value)[:1000]
    if body.get("errorCode") is not None:
        return str(body["errorCode"])
    return None


ZEPHYR_DIALECT = ServerDialect(
    message=zephyr_message,
    hints={
        403: "the Zephyr account lacks a permission in this project (a read-only account or "
        "token?) — use an account that may create test cases, cycles and executions",
        404: "not found: check --tm-url (the Zephyr server, with or without "
        "/flex/services/rest/latest), --tm-project and --tm-release",
        415: "the server refused the request's media type",
    },
    url_hint="the Zephyr Enterprise server, e.g. https://ze.example.com (with or without "
    "/flex/services/rest/latest)",
)
