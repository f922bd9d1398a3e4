"""Who is calling: API token (Bearer), Basic, or the ``token`` cookie (docs/servers/zephyr.md §3,
docs/servers/zephyr.md §3).

docs/servers/zephyr.md §3 [DOC]: "Authorization: Bearer YOUR_API_TOKEN" and "Authorization: Basic
base64(username:password)" (ASCII only). Cookie authentication is [UNCONFIRMED] in the
reference; docs/servers/zephyr.md §3 describes it: ``GET …/manifest`` with Basic
answers ``Set-Cookie: token=…; Max-Age=5400; Path=/flex``, then ``Cookie: token=…`` works for
90 minutes. It is emulated that way.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie
from typing import Any

from .config import EmulatorConfig
from .state import State, User

__all__ = ["authenticate", "basic_user", "open_session"]


def _password_of(config: EmulatorConfig, login: str) -> str | None:
    return config.users.get(login, config.readonly_users.get(login))


def basic_user(config: EmulatorConfig, state: State, header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        # docs/servers/zephyr.md §3: Basic needs ASCII credentials (otherwise use a token)
        decoded = base64.b64decode(token.strip(), validate=True).decode("ascii")
    except (binascii.Error, ValueError):
        return None
    login, separator, password = decoded.partition(":")
    expected = _password_of(config, login)
    if not separator or expected is None:
        return None
    if not hmac.compare_digest(expected.encode(), password.encode()):
        return None
    return state.users.get(login)


def _bearer_user(config: EmulatorConfig, state: State, header: str) -> User | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    for known, login in config.tokens.items():
        if hmac.compare_digest(known.encode(), token.strip().encode()):
            return state.users.get(login)
    return None


def _cookie_user(state: State, environ: Mapping[str, Any]) -> User | None:
    raw = str(environ.get("HTTP_COOKIE", ""))
    if not raw:
        return None
    try:
        cookie = SimpleCookie(raw)
    except CookieError:
        return None
    morsel = cookie.get("token")
    if morsel is None:
        return None
    session = state.sessions.get(morsel.value)
    if session is None:
        return None
    login, expires = session
    if (
        state.config.clock.time() >= expires
    ):  # docs/servers/zephyr.md §3: "Cookies expire after 90 minutes … 401"
        del state.sessions[morsel.value]
        return None
    return state.users.get(login)


def authenticate(config: EmulatorConfig, state: State, environ: Mapping[str, Any]) -> User | None:
    """The caller, or None (-> 401). An Authorization header, when sent, decides alone."""
    header = str(environ.get("HTTP_AUTHORIZATION", "")).strip()
    if header:
        scheme = header.partition(" ")[0].lower()
        if scheme == "bearer":
            return _bearer_user(config, state, header)
        return basic_user(config, state, header)
    return _cookie_user(state, environ)


def open_session(config: EmulatorConfig, state: State, user: User) -> str:
    """A ``Set-Cookie`` value for a new session of ``user`` (docs/servers/zephyr.md §3)."""
    token = str(uuid.uuid4())
    state.sessions[token] = (user.login, config.clock.time() + config.cookie_max_age)
    return f"token={token}; Max-Age={int(config.cookie_max_age)}; Path=/flex; HttpOnly"
