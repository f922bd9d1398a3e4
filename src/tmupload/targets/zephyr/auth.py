"""How tmupload logs in to Zephyr Enterprise (docs/servers/zephyr.md §3): an API token, or Basic.

* ``TMUPLOAD_TOKEN`` / ``--tm-token-file``: ``Authorization: Bearer <token>`` (ZE 6.6+; the
  only way on a single-sign-on instance).
* ``TMUPLOAD_USER`` + ``TMUPLOAD_PASSWORD``: ``Authorization: Basic …`` on every request
  (docs/servers/zephyr.md §3: the vendor plugin sends its header on every call, so no cookie session
  is needed). Basic needs ASCII credentials; anything else is a ConfigError that says to use a
  token.

Secrets live only in memory: never printed, logged or written anywhere.
"""

from __future__ import annotations

import httpx

from tmupload.errors import ConfigError
from tmupload.http.auth import BearerAuth, basic_auth
from tmupload.settings import Settings

__all__ = ["zephyr_auth"]


def zephyr_auth(settings: Settings) -> httpx.Auth:
    if settings.token is not None:
        return BearerAuth(settings.token.get_secret_value())
    if not settings.user or settings.password is None:
        raise ConfigError(
            "Zephyr Enterprise needs an API token (TMUPLOAD_TOKEN or "
            f"{settings.flag('token_file')}) or a login (TMUPLOAD_USER with "
            "TMUPLOAD_PASSWORD) — see README#credentials"
        )
    if not (settings.user.isascii() and settings.password.get_secret_value().isascii()):
        # docs/servers/zephyr.md §3 [DOC]: "Basic authentication requires … ASCII characters"
        raise ConfigError(
            "Zephyr's Basic login takes only ASCII user names and passwords: create an API "
            "token in Zephyr (Create and Manage API Tokens) and set TMUPLOAD_TOKEN instead"
        )
    return basic_auth(settings)
