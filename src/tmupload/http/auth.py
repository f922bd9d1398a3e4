"""The ways a target logs in, as ``httpx.Auth`` flows, and the hint a rejected login gets.

Basic and Bearer are httpx's and a header; :class:`LoginAuth` is for servers that hand out a
token in exchange for a login (qTest's ``/oauth/token``): it logs in on first use and once
more on a 401 (the token expired), never looping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator

import httpx

from tmupload.errors import ConfigError
from tmupload.settings import Settings

__all__ = ["BearerAuth", "LoginAuth", "basic_auth", "credential_hint"]


def basic_auth(settings: Settings) -> httpx.BasicAuth:
    if not settings.user or settings.password is None:
        raise ConfigError("a login needs TMUPLOAD_USER and TMUPLOAD_PASSWORD")
    return httpx.BasicAuth(settings.user, settings.password.get_secret_value())


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class LoginAuth(httpx.Auth):
    """Log in for a token on first use; on a 401, log in once more and repeat the request.

    ``login_request()`` builds the login request; ``read_token(response)`` returns the value
    of the ``Authorization`` header to send (and raises a ServerError if the login failed).
    """

    requires_response_body = True

    def __init__(
        self,
        login_request: Callable[[], httpx.Request],
        read_token: Callable[[httpx.Response], str],
    ) -> None:
        self._login_request = login_request
        self._read_token = read_token
        self._header: str | None = None
        self._lock = threading.Lock()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        header = self._header
        if header is None:
            login = yield self._login_request()
            header = self._remember(login)
        request.headers["Authorization"] = header
        response = yield request
        if response.status_code == 401:
            login = yield self._login_request()
            request.headers["Authorization"] = self._remember(login)
            yield request

    def _remember(self, login: httpx.Response) -> str:
        header = self._read_token(login)
        with self._lock:
            self._header = header
        return header


def credential_hint(settings: Settings) -> str:
    """What to check when the server refused the login: the credentials actually used."""
    if settings.token is not None:
        where = (
            f"the token in {settings.token_file} ({settings.flag('token_file')})"
            if settings.token_file is not None
            else "TMUPLOAD_TOKEN"
        )
        return f"check {where}"
    if settings.password_file is not None:
        password = (
            f"the password in {settings.password_file} "
            f"({settings.flag('password_file')}, which wins over "
            "TMUPLOAD_PASSWORD)"
        )
    else:
        password = "TMUPLOAD_PASSWORD"
    return f"check TMUPLOAD_USER and {password}"
