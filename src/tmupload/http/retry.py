"""Which failures are retried, how long to wait, and how a retry is described.

Retries follow docs/architecture.md §11 (stamina does the waiting, bounded by attempts *and* time,
jittered): connect errors always (the request never left); 429/502/503/504 honouring ``Retry-After``
(only 429/503 for a request that is not idempotent: a gateway's 502/504 may follow an applied
request); read timeouts and dropped connections only for idempotent calls, because a POST that
timed out may have been applied.
"""

from __future__ import annotations

import email.utils
from datetime import datetime, timezone
from typing import Any

import httpx

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES",
    "RETRY_STATUSES_UNSAFE",
    "RetryableStatus",
    "RetryableTransport",
    "describe",
    "keep_our_retries_out_of_stamina_logs",
    "retry_after",
]

RETRY_STATUSES = {429, 502, 503, 504}
# A 502 or 504 from a gateway may come after the server applied the request: a request that
# is not idempotent is retried only on the statuses that say it was not processed.
RETRY_STATUSES_UNSAFE = {429, 503}
MAX_RETRY_AFTER = 60.0


class RetryableStatus(Exception):
    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


class RetryableTransport(Exception):
    def __init__(self, exc: httpx.TransportError) -> None:
        super().__init__(str(exc))
        self.exc = exc


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:  # the HTTP-date form
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, min((when - datetime.now(timezone.utc)).total_seconds(), MAX_RETRY_AFTER))


def describe(exc: Exception) -> str:
    if isinstance(exc, RetryableStatus):
        return f"the server answered {exc}"
    if isinstance(exc, RetryableTransport):
        inner = exc.exc
        if isinstance(inner, httpx.TimeoutException):
            return "no answer in time"
        return f"network problem ({type(inner).__name__}: {inner})"
    return str(exc)


_quiet_hooks_installed = False


def keep_our_retries_out_of_stamina_logs() -> None:
    """stamina logs every scheduled retry (raw structlog lines on stderr when structlog is
    installed); ours are reported through the upload's progress instead. Other code's
    retries keep the hooks they had."""
    global _quiet_hooks_installed
    if _quiet_hooks_installed:
        return
    _quiet_hooks_installed = True
    from stamina.instrumentation import get_on_retry_hooks, set_on_retry_hooks

    previous = get_on_retry_hooks()

    def others_only(details: Any) -> None:
        if isinstance(details.caused_by, (RetryableStatus, RetryableTransport)):
            return
        for hook in previous:
            hook(details)

    set_on_retry_hooks([others_only])
