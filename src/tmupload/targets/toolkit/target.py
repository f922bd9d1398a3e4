"""``ServerTarget``: what the three servers' targets share.

The constructor every target has (settings, a transport for tests, a progress line; a target
adds its own state in ``_configure``), its
clients (``connection``), the deliver wrapper (a ``Delivery`` whose request and byte counts
are set whatever happens: a failed delivery reports what it cost too), and the link step
(``tmupload.linking.link_all`` at the settings' concurrency).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import httpx

from tmupload.http.client import HttpClient
from tmupload.linking import LinkRequest, link_all
from tmupload.settings import Settings
from tmupload.targets.base import Delivery, Journal, LinkResult, Progress, quiet
from tmupload.targets.toolkit.connection import ClientRecipe, Connection

__all__ = ["ServerTarget"]


class ServerTarget:
    """The base of a server's target; a subclass names its server and its client recipe."""

    name: ClassVar[str]
    recipe: ClassVar[ClientRecipe]

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        progress: Progress = quiet,
    ) -> None:
        self.settings = settings
        self.connection = Connection(self.recipe, settings, transport, progress)
        self._progress = progress
        self._configure()

    def _configure(self) -> None:
        """What a server's target makes of its settings when it is built (a bad setting is a
        ConfigError here, before any test runs), and the state it keeps between calls."""

    def _client(self) -> HttpClient:
        return self.connection.client()

    def _delivering(self, work: Callable[[HttpClient, Delivery], None]) -> Delivery:
        """``work(client, delivery)`` with a fresh client; the delivery's request and byte
        counts are set even when ``work`` raises."""
        delivery = Delivery(target=self.name)
        with self._client() as http:
            try:
                work(http, delivery)
            finally:
                delivery.requests = http.requests_sent
                delivery.bytes_sent = http.bytes_sent
        return delivery

    def _link_all(
        self,
        requests: Sequence[LinkRequest],
        link_one: Callable[[LinkRequest], LinkResult],
        journal: Journal,
    ) -> list[LinkResult]:
        """Each (case, ticket) pair not linked before, journaled one by one."""
        return link_all(
            requests,
            link_one,
            journal,
            concurrency=self.settings.link_concurrency,
            progress=self._progress,
        )
