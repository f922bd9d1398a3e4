"""The HTTP client every target uses: TLS, timeouts, safe retries, errors with the fix.

The target supplies what differs between servers: the base URL, how to log in (an
``httpx.Auth``) and how the server words its errors (a :class:`ServerDialect`).
Which failures are retried and how is in ``retry.py``; TLS in ``tls.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import stamina

from tmupload.errors import (
    ServerError,
    ServerProtocolError,
    ServerRejected,
    ServerUnavailable,
    TransportError,
)
from tmupload.http.auth import credential_hint
from tmupload.http.dialect import ServerDialect, nothing_at
from tmupload.http.poll import Deadline
from tmupload.http.retry import (
    RETRY_STATUSES,
    RETRY_STATUSES_UNSAFE,
    RetryableStatus,
    RetryableTransport,
    describe,
    keep_our_retries_out_of_stamina_logs,
    retry_after,
)
from tmupload.http.tls import tls_context
from tmupload.settings import Settings

__all__ = ["Deadline", "HttpClient"]

log = logging.getLogger("tmupload.http.client")


class DeadlinePassed(httpx.TransportError):
    """The overall time budget ran out before (or while) sending a request."""


@dataclass(frozen=True)
class _Outgoing:
    """What one request sends beyond its method and URL (the same on every attempt)."""

    params: Mapping[str, str] | None
    json: Any
    content: bytes | None
    headers: Mapping[str, str] | None


class HttpClient:
    """A thin wrapper over ``httpx.Client`` bound to one server origin."""

    def __init__(
        self,
        settings: Settings,
        *,
        auth: httpx.Auth | None = None,
        dialect: ServerDialect | None = None,
        base_url: str | None = None,
        deadline: Deadline | None = None,
        transport: httpx.BaseTransport | None = None,
        attempts: int = 5,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        url = base_url or settings.url
        assert url is not None
        self.base_url = url.rstrip("/") + "/"
        self._origin = _origin(self.base_url)
        self.deadline = deadline or Deadline(settings.deadline, setting=settings.flag("deadline"))
        self.dialect = dialect or ServerDialect()
        self._credential_hint = credential_hint(settings)
        self._attempts = attempts
        self.requests_sent = 0
        self.bytes_sent = 0
        self._last_problem = ""
        self._timeout = settings.timeout
        self._settings = settings
        self._on_retry = on_retry
        keep_our_retries_out_of_stamina_logs()
        self._client = httpx.Client(
            auth=auth,
            # No TLS on a plain-http URL: building a context costs 60-85 ms for nothing.
            verify=tls_context(settings) if self.base_url.startswith("https:") else False,
            proxy=settings.proxy,
            timeout=httpx.Timeout(settings.timeout, connect=min(settings.timeout, 10.0)),
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "tmupload"},
            follow_redirects=False,
            trust_env=True,
        )

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def url(self, path_or_url: str) -> str:
        """An absolute URL on the configured server; refuses any other origin."""
        if "://" in path_or_url:
            if _origin(path_or_url) != self._origin:
                raise ServerProtocolError(
                    f"the server pointed to {_origin(path_or_url)}, which is not the configured "
                    f"server {self._origin}; tmupload never sends credentials elsewhere",
                    url=path_or_url,
                )
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def is_same_origin(self, url: str) -> bool:
        return _origin(url) == self._origin

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok: tuple[int, ...] = (200,),
        allow: tuple[int, ...] = (),
        probe: bool = False,
    ) -> httpx.Response:
        """Send one request with retries; return the response if its status is in ok or allow.

        Any other status becomes a ServerError carrying the server's ``Message``. ``probe``:
        a call every server of this kind answers (the first one a target makes): a 404 then
        means the URL setting is wrong, and the error says so, naming the URL tried.
        """
        url = self.url(path_or_url)
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")
        outgoing = _Outgoing(params=params, json=json, content=content, headers=headers)
        response = self._send_with_retries(method, url, outgoing, idempotent=idempotent)
        if response.status_code in ok or response.status_code in allow:
            return response
        raise self._status_error(method, url, response, probe=probe)

    def _send_with_retries(
        self, method: str, url: str, outgoing: _Outgoing, *, idempotent: bool
    ) -> httpx.Response:
        """The server's answer, once it is not a status or failure worth retrying; retried
        ones past the attempts or the deadline become the error that says so."""
        # A request that is not idempotent is sent again only when it never left.
        retry_transport: tuple[type[httpx.TransportError], ...] = (
            (httpx.TransportError,) if idempotent else (httpx.ConnectError, httpx.ConnectTimeout)
        )
        retry_statuses = RETRY_STATUSES if idempotent else RETRY_STATUSES_UNSAFE
        tries = 0

        def backoff(exc: Exception) -> bool | float:
            if not isinstance(exc, (RetryableStatus, RetryableTransport)):
                return False
            wait: bool | float = True
            if isinstance(exc, RetryableStatus) and exc.retry_after is not None:
                wait = exc.retry_after
            if self._on_retry is not None and tries < self._attempts:
                after = f" after {wait:.0f}s (Retry-After)" if wait is not True else ""
                self._on_retry(
                    f"{method} {_path(url)}: {describe(exc)}; retrying{after} "
                    f"(attempt {tries + 1} of {self._attempts})"
                )
            log.info("%s %s: %s; retrying", method, _path(url), describe(exc))
            return wait

        try:
            for attempt in stamina.retry_context(
                on=backoff,
                attempts=self._attempts,
                timeout=max(0.1, min(self.deadline.remaining(), self.deadline.seconds)),
                wait_initial=0.2,
                wait_max=10.0,
                wait_jitter=0.5,
            ):
                with attempt:
                    tries += 1
                    return self._send_once(method, url, outgoing, retry_transport, retry_statuses)
        except RetryableStatus as exc:
            raise self._still_unavailable(method, url, exc.response) from None
        except RetryableTransport as exc:
            raise self._transport_error(method, url, exc.exc, tries) from None
        except httpx.TransportError as exc:
            raise self._transport_error(method, url, exc, tries) from None
        raise AssertionError("stamina.retry_context ended without an attempt")  # pragma: no cover

    def _still_unavailable(
        self, method: str, url: str, response: httpx.Response
    ) -> ServerUnavailable:
        message = self.dialect.message(response)
        return ServerUnavailable(
            f"{method} {_path(url)}: the server kept answering HTTP {response.status_code} "
            f"after {self._attempts} attempts"
            + _with_message(message)
            + " — the results are kept; try again later",
            status=response.status_code,
            server_message=message,
            url=url,
        )

    def _status_error(
        self, method: str, url: str, response: httpx.Response, *, probe: bool = False
    ) -> ServerError:
        message = self.dialect.message(response)
        status = response.status_code
        if status == 404 and probe:
            text = nothing_at(method, url, status, message, self.flag("url"), self.dialect.url_hint)
            return ServerRejected(text, status=status, server_message=message, url=url)
        hint = self.dialect.hint(status)
        if status == 401:
            hint = f"the server did not accept the login: {self._credential_hint} " + (
                "(see README#credentials)"
            )
        text = f"{method} {_path(url)} failed with HTTP {status}" + _with_message(message)
        if hint:
            text += f" — {hint}"
        error_type: type[ServerError] = ServerRejected if 400 <= status < 500 else ServerUnavailable
        return error_type(text, status=status, server_message=message, url=url)

    def flag(self, name: str) -> str:
        """How the user sets ``name`` in this front end (``--tm-url`` or ``--url``)."""
        return self._settings.flag(name)

    def _transport_error(
        self, method: str, url: str, exc: httpx.TransportError, tries: int
    ) -> TransportError:
        parts = urlsplit(url)
        where = f"{parts.scheme}://{parts.netloc}"
        limits = (
            f"gave up after {tries} attempt{'s' if tries != 1 else ''}; the limits are "
            f"{self.flag('timeout')} {self._timeout:g}s per answer and "
            f"{self.flag('deadline')} {self.deadline.seconds:g}s for the whole upload"
        )
        if isinstance(exc, DeadlinePassed):
            reason = f"gave up on {where}: {exc}"
        elif isinstance(exc, httpx.ConnectError) and "CERTIFICATE" in str(exc).upper():
            reason = (
                f"TLS verification of {where} failed ({exc}); point "
                f"{self.flag('ca_bundle')} at your company's CA bundle"
            )
        elif isinstance(exc, httpx.TimeoutException):
            reason = f"{where} did not answer in time ({limits})"
        elif isinstance(exc, httpx.ConnectError):
            reason = (
                f"cannot connect to {where} ({exc}); check {self.flag('url')} and that the "
                f"server is up ({limits})"
            )
        else:
            reason = f"the connection to {where} failed ({type(exc).__name__}: {exc}; {limits})"
        return TransportError(f"{method} {parts.path}: {reason}", url=url)

    def _send_once(
        self,
        method: str,
        url: str,
        outgoing: _Outgoing,
        retry_transport: tuple[type[httpx.TransportError], ...],
        retry_statuses: set[int],
    ) -> httpx.Response:
        remaining = self.deadline.remaining()
        if remaining <= 0:
            last = f"; last problem: {self._last_problem}" if self._last_problem else ""
            raise DeadlinePassed(
                f"the upload deadline of {self.deadline.seconds:g}s ({self.flag('deadline')}) "
                f"has passed{last}"
            )
        timeout = httpx.Timeout(
            min(self._timeout, remaining), connect=min(self._timeout, 10.0, remaining)
        )
        self.requests_sent += 1
        if outgoing.content is not None:
            self.bytes_sent += len(outgoing.content)
        try:
            response = self._client.request(
                method,
                url,
                params=outgoing.params,
                json=outgoing.json,
                content=outgoing.content,
                headers=outgoing.headers,
                timeout=timeout,
            )
        except retry_transport as exc:
            self._last_problem = f"{type(exc).__name__}: {exc}"
            if self.deadline.expired():
                raise
            raise RetryableTransport(exc) from exc
        if response.status_code in retry_statuses:
            self._last_problem = f"HTTP {response.status_code}"
            raise RetryableStatus(response, retry_after(response))
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _path(url: str) -> str:
    return urlsplit(url).path


def _with_message(message: str | None) -> str:
    return f' (server said: "{message}")' if message else ""
