"""Authentication (docs/servers/qtest.md §3): static API tokens, ``POST /oauth/token``,
``GET /oauth/status``.

Every API call carries ``Authorization: <token_type> <access_token>``
(docs/servers/qtest.md §3.1, §3.2); the scheme word is matched case-insensitively since the login
answer says ``bearer`` and the portal's example says ``Bearer``. Anything missing, unknown or
expired is a 401 with the ``ErrorMessage`` body of docs/servers/qtest.md §9.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from typing import Any
from urllib.parse import parse_qs

from .protocol import ApiError, Request, Response, error_body, json_response
from .state import State, Token, User

__all__ = ["REFRESH_CLIENT", "authenticate", "post_token", "token_status"]

#: docs/servers/qtest.md §3.2: the Basic credential of a ``refresh_token`` grant is base64 of
#: ``qtest-api:``.
REFRESH_CLIENT = "qtest-api"
#: docs/servers/qtest.md §3.2: the spec's example scope.
SCOPE = "read import administration create share baseline write delete execute export"
#: [inference] what ``/oauth/status`` reports for a static token, which does not expire.
STATIC_VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000


def _bearer(header: str) -> str:
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def token_of(state: State, header: str, now: float) -> Token:
    """The live token of an ``Authorization`` header, or a 401 saying what is wrong."""
    value = _bearer(header)
    if not value:
        raise ApiError(401, "Full authentication is required: send Authorization: Bearer <token>.")
    token = state.tokens.get(value)
    if token is None or token.kind == "refresh":
        raise ApiError(401, "Invalid access token.")
    if token.expires_at is not None and now >= token.expires_at:
        # docs/servers/qtest.md §9: re-login and retry once
        raise ApiError(401, "Access token expired.")
    return token


def authenticate(state: State, header: str, now: float) -> User:
    token = token_of(state, header, now)
    return state.users[token.login]


def token_status(state: State, header: str, now: float) -> Response:
    """docs/servers/qtest.md §3.3 ``OAuthTokenStatusVM``:
    ``{expiration, validityInMilliseconds}``."""
    token = token_of(state, header, now)
    if token.expires_at is None:
        remaining = STATIC_VALIDITY_MS
    else:
        remaining = max(0, int((token.expires_at - now) * 1000))
    return json_response(
        200, {"expiration": int(now * 1000) + remaining, "validityInMilliseconds": remaining}
    )


def _oauth_error(status: int, error: str, message: str) -> Response:
    """docs/servers/qtest.md §9's ``message``, plus RFC 6749's ``error``/``error_description``
    [inference]."""
    return json_response(
        status, {**error_body(message), "error": error, "error_description": message}
    )


def _basic_user(header: str) -> str | None:
    """The user part of a Basic credential whose password is empty, else None
    (docs/servers/qtest.md §3.2)."""
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    user, colon, secret = decoded.partition(":")
    return user if colon and not secret and user else None


def _fields(request: Request) -> dict[str, str]:
    """Form fields (docs/servers/qtest.md §3.2: ``application/x-www-form-urlencoded``), over query
    parameters ([CLIENT] the vendor plugin sends them in the query). [inference] a JSON body is not
    read."""
    fields = {name: values[0] for name, values in request.query.items() if values}
    if request.content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(request.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            form = {}
        fields.update({name: values[0] for name, values in form.items() if values})
    return fields


def _issue(state: State, login: str, now: float) -> dict[str, Any]:
    lifetime = state.config.token_lifetime
    access = Token(str(uuid.uuid4()), login, "access", now + lifetime)
    refresh = Token(str(uuid.uuid4()), login, "refresh", None)
    state.tokens[access.value] = access
    state.tokens[refresh.value] = refresh
    return {
        "access_token": access.value,
        "token_type": "bearer",
        "refresh_token": refresh.value,
        "scope": SCOPE,
        "agent": "tmupload-qtest-emulator",
        "expires_in": int(lifetime),
    }


def post_token(state: State, request: Request, header: str, now: float) -> Response:
    """docs/servers/qtest.md §3.2 ``postAccessToken``: 200 ``OAuthResponse``; 400 bad grant type or
    refresh token; 401 missing or wrong Basic header.

    [inference] a wrong username or password is 401 too, and a missing one 400.
    """
    fields = _fields(request)
    grant = fields.get("grant_type", "password") or "password"
    client = _basic_user(header)
    if grant == "password":
        site = state.config.site_name
        if client is None or (site is not None and client != site):
            expected = f"'{site}:'" if site else "'<site name>:'"
            return _oauth_error(
                401,
                "unauthorized",
                f"Missing or invalid Authorization header: send Basic base64({expected}).",
            )
        login, password = fields.get("username", ""), fields.get("password", "")
        if not login or not password:
            return _oauth_error(400, "invalid_request", "username and password are required.")
        users = {**state.config.users, **state.config.readonly_users}
        expected_password = users.get(login)
        if expected_password is None or not hmac.compare_digest(
            expected_password.encode(), password.encode()
        ):
            return _oauth_error(401, "unauthorized", "Bad credentials.")
        return json_response(200, _issue(state, login, now))
    if grant == "refresh_token":
        if client != REFRESH_CLIENT:
            return _oauth_error(
                401,
                "unauthorized",
                f"Missing or invalid Authorization header: send Basic base64('{REFRESH_CLIENT}:').",
            )
        token = state.tokens.get(fields.get("refresh_token", ""))
        # [inference] a static API token also works as a refresh token ([CLIENT] the vendor
        # plugin sends its stored API key that way, docs/servers/qtest.md §3.3 aside)
        if token is None or token.kind not in ("refresh", "static"):
            return _oauth_error(400, "invalid_grant", "Invalid refresh token.")
        return json_response(200, _issue(state, token.login, now))
    return _oauth_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}.")
