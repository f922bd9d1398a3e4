"""Plumbing every emulator shares: reading a request body and query, and the JSON of the
fault-injection and strict-mode control endpoints (``/_emulator/faults``, ``/_emulator/strict``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from urllib.parse import parse_qs

from tmupload.emulation.faults import Faults

__all__ = ["faults_fields", "faults_json", "query_first", "read_body", "strict_field"]


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
