"""How tmupload logs in to qTest (docs/servers/qtest.md §3): a static API token, or a login for a
token.

* ``TMUPLOAD_TOKEN`` / ``--tm-token-file``: ``Authorization: Bearer <token>``
  (docs/servers/qtest.md §3.1).
* ``TMUPLOAD_USER`` + ``TMUPLOAD_PASSWORD``: ``POST /oauth/token`` (docs/servers/qtest.md §3.2),
  form-encoded, ``Authorization: Basic base64("<site>:")`` where the site is the host's first label;
  the answer's ``<token_type> <access_token>`` is sent on later calls. The core's ``LoginAuth``
  logs in on first use and once more on a 401 (an expired token, docs/servers/qtest.md §9), never
  looping.

The token lives only in memory: it is never printed, logged or written anywhere.
"""

from __future__ import annotations

import base64
from urllib.parse import urlsplit

import httpx

from tmupload.errors import ConfigError, ServerProtocolError, ServerRejected
from tmupload.http.auth import BearerAuth, LoginAuth, credential_hint
from tmupload.http.dialect import generic_message, nothing_at
from tmupload.settings import Settings

__all__ = ["QTEST_SITE", "qtest_auth", "site_name"]

#: What the URL setting must be for qTest (README.md#configuration), for messages about a wrong one.
QTEST_SITE = "the qTest site, e.g. https://acme.qtestnet.com (no path)"


def site_name(url: str) -> str:
    """docs/servers/qtest.md §3.2: ``apitryout.qtestnet.com`` -> ``apitryout`` (the host's first
    label)."""
    host = urlsplit(url).hostname or ""
    return host.split(".", 1)[0]


def qtest_auth(settings: Settings) -> httpx.Auth:
    if settings.token is not None:
        return BearerAuth(settings.token.get_secret_value())
    if not settings.user or settings.password is None:
        raise ConfigError(
            f"qTest needs an API token (TMUPLOAD_TOKEN or "
            f"{settings.flag('token_file')}) or a login "
            "(TMUPLOAD_USER with TMUPLOAD_PASSWORD) — see README#credentials"
        )
    assert settings.url is not None
    url = settings.url.rstrip("/") + "/oauth/token"
    site = site_name(settings.url)
    basic = base64.b64encode(f"{site}:".encode()).decode("ascii")
    user = settings.user
    password = settings.password
    hint = credential_hint(settings)
    url_flag = settings.flag("url")

    def login_request() -> httpx.Request:
        return httpx.Request(
            "POST",
            url,
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
            data={
                "grant_type": "password",
                "username": user,
                "password": password.get_secret_value(),
            },
        )

    def read_token(response: httpx.Response) -> str:
        if response.status_code == 404:
            # Every qTest site has /oauth/token: nothing there is the URL, not the login.
            message = generic_message(response)
            raise ServerRejected(
                nothing_at("POST", url, 404, message, url_flag, QTEST_SITE)
                + "; the login was not tried",
                status=404,
                server_message=message,
                url=url,
            )
        if response.status_code != 200:
            message = generic_message(response)
            said = f' (server said: "{message}")' if message else ""
            raise ServerRejected(
                f"POST /oauth/token: the qTest login failed with HTTP {response.status_code}"
                f"{said} — {hint}; the site name sent is {site!r}, the first label of "
                f"{url_flag} (see README#credentials)",
                status=response.status_code,
                server_message=message,
                url=url,
            )
        try:
            body = response.json()
            token = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise ServerProtocolError(
                f"POST {url} answered 200 without an access_token: {url_flag} must be {QTEST_SITE}",
                url=url,
            ) from None
        # docs/servers/qtest.md §3.2: send ``<token_type> <access_token>`` (the example says
        # ``bearer``).
        kind = str(body.get("token_type") or "bearer")
        return f"{kind} {token}"

    return LoginAuth(login_request, read_token)
