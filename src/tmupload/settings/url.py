"""What a server URL setting must be: an http(s) address of a host, with no login, query or
fragment, and never echoed when it may hold a password."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

__all__ = ["check_url", "is_loopback"]


def check_url(value: str, example: str) -> str:
    """``value`` without its trailing ``/``; ValueError says what is wrong and ends with
    ``example``, what a URL of the chosen server looks like."""
    fix = f"give the server's address, e.g. {example}"
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # an unclosed IPv6 bracket
        # Not echoed when it may hold a login (user:password@, see below).
        shown = "the URL" if "@" in value else repr(value)
        raise ValueError(f"{shown} is not a URL ({exc}): {fix}") from None
    if "@" in parts.netloc:
        # Never echo the value: it holds a password. Printed, spooled or written into a
        # manifest, the URL would leak it (docs/architecture.md §11).
        raise ValueError(
            "the URL must not carry a login (user:password@): remove it and set "
            "TMUPLOAD_USER with TMUPLOAD_PASSWORD or --tm-password-file (see "
            "README#credentials)"
        )
    if any(char.isspace() or not char.isprintable() for char in value):
        raise ValueError(f"{value!r} holds a space or a control character: {fix}")
    if parts.scheme not in ("http", "https"):
        said = f", not {parts.scheme}://" if parts.scheme and parts.netloc else ""
        raise ValueError(f"{value!r} must start with https:// (or http://){said}: {fix}")
    if not parts.hostname:
        raise ValueError(f"{value!r} names no host: {fix}")
    _check_port(value, parts, fix)
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} must not carry a query or fragment: {fix}")
    return value.rstrip("/")


def _check_port(value: str, parts: SplitResult, fix: str) -> None:
    try:
        port = parts.port  # urllib checks 0-65535 only when asked
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        given = parts.netloc.rpartition(":")[2]
        raise ValueError(
            f"{value!r}: the port {given!r} is not a number from 1 to 65535 — fix it or "
            f"leave it out; {fix}"
        )


def is_loopback(parts: SplitResult) -> bool:
    """Whether the URL's host is this machine (plain http may carry credentials there)."""
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
