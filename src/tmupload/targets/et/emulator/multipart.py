"""MIME multipart bodies split into their parts, byte for byte (docs/servers/et.md §2.10).

``email.message_from_bytes`` is not used for the content: a part's bytes must come back exactly
as they were sent (binary files, CRLFs, trailing newlines), so the body is split on the
boundary here (RFC 2046 §5.1.1) and only each part's *headers* go through the email package
(which knows ``filename*=`` and quoted parameters).
"""

from __future__ import annotations

import binascii
import posixpath
import quopri
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

from .protocol import ApiError

__all__ = ["Part", "parse_multipart"]


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multipart body."""

    #: The file name of the part (``filename``, else ``name``, else "attachment-<n>").
    file_name: str
    #: The part's ``Content-Type`` as sent, "" when it has none.
    content_type: str
    content: bytes


def parse_multipart(content_type: str, body: bytes) -> list[Part]:
    """The parts of a multipart request body, in order.

    A request that is not ``multipart/*`` is a 415 (docs/servers/et.md §2.3, §5.4). [inference] Any
    multipart subtype is accepted (the reference shows ``multipart/mixed``; curl-style clients send
    ``multipart/form-data``); a missing boundary, a malformed body or a body without parts
    is a 400.
    """
    header = Message()
    header["Content-Type"] = content_type or "text/plain"
    if not content_type.strip() or header.get_content_maintype() != "multipart":
        raise ApiError(
            415, "The request is not MIME multipart (send multipart/mixed with a boundary)."
        )
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ApiError(400, "The multipart Content-Type has no boundary.")
    raw_parts = _split(body, boundary.encode("latin-1", errors="replace"))
    if not raw_parts:
        raise ApiError(400, "The multipart body has no parts.")
    return [_part(raw, index) for index, raw in enumerate(raw_parts, start=1)]


def _split(body: bytes, boundary: bytes) -> list[bytes]:
    """The raw parts (headers, blank line, content) between the delimiters."""
    delimiter = b"--" + boundary
    separator = b"\r\n" + delimiter
    if body.startswith(delimiter):
        position = len(delimiter)
    else:  # skip the preamble
        found = body.find(separator)
        if found < 0:
            raise ApiError(400, "The multipart body does not contain its boundary.")
        position = found + len(separator)
    parts: list[bytes] = []
    while not body.startswith(b"--", position):  # "--boundary--" closes the body
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise ApiError(400, "The multipart body is malformed after a boundary line.")
        start = line_end + 2
        end = body.find(separator, start)
        if end < 0:
            raise ApiError(400, "The multipart body has no closing boundary.")
        parts.append(body[start:end])
        position = end + len(separator)
    return parts


def _part(raw: bytes, index: int) -> Part:
    if raw.startswith(b"\r\n"):  # no headers at all
        head, content = b"", raw[2:]
    else:
        blank = raw.find(b"\r\n\r\n")
        if blank < 0:
            raise ApiError(400, f"Part {index} of the multipart body has no blank line.")
        head, content = raw[:blank], raw[blank + 4 :]
    # utf-8 first: browsers and httpx send non-ASCII file names as raw UTF-8
    headers = HeaderParser().parsestr(head.decode("utf-8", errors="replace") + "\r\n\r\n")
    return Part(
        file_name=_file_name(headers, index),
        content_type=" ".join(str(headers.get("Content-Type", "")).split()),
        content=_decode(content, str(headers.get("Content-Transfer-Encoding", ""))),
    )


def _file_name(headers: Message, index: int) -> str:
    """``filename`` (or ``filename*``), else the part's ``name``, else "attachment-<n>".

    [inference] Only the last path component is kept (old browsers sent whole paths).
    """
    text = headers.get_filename() or ""
    if not text:
        name = headers.get_param("name", header="content-disposition")
        text = collapse_rfc2231_value(name) if name is not None else ""
    text = posixpath.basename(text.replace("\\", "/")).strip()
    return text or f"attachment-{index}"


def _decode(content: bytes, encoding: str) -> bytes:
    """[inference] Honour a base64 or quoted-printable ``Content-Transfer-Encoding``."""
    encoding = encoding.strip().lower()
    if encoding == "base64":
        try:
            return binascii.a2b_base64(content)
        except binascii.Error:
            raise ApiError(400, "A base64 part of the multipart body is not valid.") from None
    if encoding == "quoted-printable":
        return quopri.decodestring(content)
    return content
