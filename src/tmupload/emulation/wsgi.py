"""Plumbing every emulator shares: reading a request body and query, and the JSON of the
fault-injection and strict-mode control endpoints (``/_emulator/faults``, ``/_emulator/strict``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from tmupload.emulation.faults import Faults

__all__ = [
    "faults_fields",
    "faults_json",
    "query_first",
    "read_body",
    "read_limited",
    "root_url",
    "strict_field",
]

_CHUNK = 64 * 1024


def read_body(environ: Mapping[str, Any]) -> bytes:
    """The request body (``CONTENT_LENGTH`` bytes; none when absent or garbage)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    data: bytes = environ["wsgi.input"].read(length)
    return data


def read_limited(environ: Mapping[str, Any], limit: int | None) -> tuple[bytes, int]:
    """The body, or ``(b"", length)`` when it is longer than ``limit`` (read and dropped, so
    the connection stays usable for the answer). No limit: :func:`read_body`."""
    if limit is None:
        return read_body(environ), 0
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= limit:
        return read_body(environ), 0
    stream = environ["wsgi.input"]
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
    return b"", length


def root_url(environ: Mapping[str, Any], app_path: str = "") -> str:
    """``scheme://host`` of the request plus ``app_path``: the prefix of the links a server
    writes into its answers."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = str(environ.get("HTTP_HOST", ""))
    if not host:
        host = str(environ.get("SERVER_NAME", "localhost"))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{app_path}"


def query_first(environ: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters, keys lower-cased, the first value of each."""
    parsed = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
    return {key.lower(): values[0] for key, values in parsed.items()}


def faults_json(faults: Faults) -> dict[str, Any]:
    data = asdict(faults)
    if faults.only_methods is not None:
        data["only_methods"] = sorted(faults.only_methods)
    return data


def faults_fields(body: bytes) -> dict[str, Any]:
    """The ``Faults`` fields a control request asks for; ValueError/TypeError when bad."""
    fields = json.loads(body or b"{}")
    if not isinstance(fields, dict):
        raise TypeError("the body must be a JSON object of Faults fields")
    if isinstance(fields.get("only_methods"), list):
        fields["only_methods"] = set(fields["only_methods"])
    return fields


def strict_field(body: bytes) -> bool:
    """The ``strict`` flag of a ``POST /_emulator/strict`` body ``{"strict": true|false}``;
    ValueError/TypeError when bad."""
    data = json.loads(body or b"{}")
    strict = data.get("strict") if isinstance(data, dict) else None
    if not isinstance(strict, bool):
        raise TypeError('the body must be {"strict": true} or {"strict": false}')
    return strict
