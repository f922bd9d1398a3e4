"""A small ``multipart/form-data`` reader for the attachment upload (docs/servers/zephyr.md §5.7).

The standard library's ``cgi`` module is gone (3.13) and ``email`` mangles raw UTF-8 file
names, so the parts are split here: by boundary, then each part's headers as UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass

from .protocol import ApiError

__all__ = ["Part", "parse_form_data"]


@dataclass(frozen=True)
class Part:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def _params(header: str) -> tuple[str, dict[str, str]]:
    """``form-data; name="x"; filename="y"`` -> (``form-data``, {name, filename})."""
    value, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for item in _split_params(rest):
        key, sep, raw = item.partition("=")
        if not sep:
            continue
        raw = raw.strip()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[key.strip().lower()] = raw
    return value.strip().lower(), params


def _split_params(text: str) -> list[str]:
    """Split on ``;`` outside quotes."""
    items, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\" and quoted:
            current.append(char)
            escaped = True
        elif char == '"':
            current.append(char)
            quoted = not quoted
        elif char == ";" and not quoted:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return [item for item in items if item.strip()]


def parse_form_data(content_type: str, body: bytes) -> list[Part]:
    """The parts of a ``multipart/form-data`` body; anything else is a 400 [inference]."""
    media, params = _params(content_type)
    if media != "multipart/form-data" or not params.get("boundary"):
        raise ApiError(400, "The upload must be multipart/form-data with a boundary.")
    delimiter = b"--" + params["boundary"].encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3 or not chunks[-1].startswith(b"--"):
        raise ApiError(400, "The multipart body is malformed (no closing boundary).")
    parts = []
    for chunk in chunks[1:-1]:
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        chunk = chunk[:-2] if chunk.endswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ApiError(400, "A multipart part has no header/body separator.")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, colon, value = line.partition(":")
            if colon:
                headers[key.strip().lower()] = value.strip()
        disposition, disp_params = _params(headers.get("content-disposition", ""))
        if disposition != "form-data" or "name" not in disp_params:
            raise ApiError(400, "A multipart part lacks Content-Disposition: form-data; name=.")
        parts.append(
            Part(
                name=disp_params["name"],
                filename=disp_params.get("filename"),
                content_type=headers.get("content-type", ""),
                data=data,
            )
        )
    return parts
