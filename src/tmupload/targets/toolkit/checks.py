"""What the servers' ``tmupload check`` share: how a line is shaped, how the account is named,
and what a failed first call to the server says (``cli/check.py`` prints the lines)."""

from __future__ import annotations

from collections.abc import Callable, Container, Generator
from typing import TypeVar

from tmupload.errors import ConfigError, ServerRejected, TmUploadError, TransportError
from tmupload.settings import Settings

__all__ = ["CheckLine", "configuration", "first_call_failed", "login_words"]

T = TypeVar("T")

#: One line of ``tmupload check``: passed (True), failed (False) or a note on what it cannot
#: verify (None), and what it says.
CheckLine = tuple[bool | None, str]


def login_words(settings: Settings) -> str:
    """How a check names the account: "an API token", or "the login NAME"."""
    return "an API token" if settings.token is not None else f"the login {settings.user}"


def configuration(
    settings: Settings, read: Callable[[], T]
) -> Generator[CheckLine, None, T | None]:
    """The first line of a check: whether the settings are complete and what ``read`` makes
    of them (the target's own, such as its status map) is valid. Returns what ``read``
    returned, or None after the failed line (a check stops there)."""
    try:
        settings.require_target()
        value = read()
    except ConfigError as exc:
        yield False, f"configuration: {exc}"
        return None
    yield True, f"configuration: {settings.url} with {login_words(settings)}"
    return value


def first_call_failed(
    exc: TmUploadError,
    server: str,
    *,
    reached: str | None = None,
    login_statuses: Container[int] | None = None,
) -> list[CheckLine]:
    """The lines for a first call to the server that failed.

    No answer: the ``server`` is not reachable. An answer that refuses (``ServerRejected``): the
    server is reachable (``reached`` says so, "<server> reachable" by default) and the login is
    refused, or the URL is wrong when the answer is a 404 (see nothing_at). A refusal with a
    status outside ``login_statuses`` (when given), or any other error, cannot tell which of
    the two it is.
    """
    if isinstance(exc, TransportError):
        return [(False, f"{server} reachable: {exc}")]
    if isinstance(exc, ServerRejected):
        reachable: CheckLine = (True, reached or f"{server} reachable")
        if exc.status == 404:
            return [reachable, (False, f"URL: {exc}")]
        if login_statuses is None or exc.status in login_statuses:
            return [reachable, (False, f"login: {exc}")]
    return [(False, f"{server} and login: {exc}")]
