"""How a target gets its HTTP clients.

Each server has a ``ClientRecipe``: its error dialect, its authentication and, for a server
whose REST base is not the address a person gives (Zephyr), where its API starts. A
``Connection`` holds what one target was built with and opens the two clients every target
uses: the foreground one of ``deliver`` and ``plan`` (its retries reported on the trouble
line), and the background one of the work done while the tests run (``prepare``, streams):
quiet, two attempts, at most ``PREPARE_BUDGET`` seconds — whatever it leaves undone,
``deliver`` does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tmupload.http.client import HttpClient
from tmupload.http.dialect import ServerDialect
from tmupload.http.poll import Deadline
from tmupload.settings import Settings
from tmupload.targets.base import Progress, trouble_channel

__all__ = ["PREPARE_BUDGET", "ClientRecipe", "Connection"]

#: Seconds the lookups made before the session end may take, at most (only a head start).
PREPARE_BUDGET = 30.0


def _no_base_url(_: Settings) -> str | None:
    return None  # the address the settings give


@dataclass(frozen=True)
class ClientRecipe:
    """How to open an ``HttpClient`` for one server."""

    dialect: ServerDialect
    auth: Callable[[Settings], httpx.Auth | None]
    base_url: Callable[[Settings], str | None] = _no_base_url

    def open(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        deadline: Deadline | None = None,
        attempts: int = 5,
        on_retry: Callable[[str], None] | None = None,
    ) -> HttpClient:
        return HttpClient(
            settings,
            auth=self.auth(settings),
            dialect=self.dialect,
            base_url=self.base_url(settings),
            deadline=deadline,
            transport=transport,
            attempts=attempts,
            on_retry=on_retry,
        )


@dataclass(frozen=True)
class Connection:
    """The clients of one target (``transport``: tests and the emulators' loopback)."""

    recipe: ClientRecipe
    settings: Settings
    transport: httpx.BaseTransport | None
    progress: Progress

    def client(self) -> HttpClient:
        """For ``deliver`` and ``plan``: the settings' retries and deadline, retries said."""
        return self.recipe.open(
            self.settings, transport=self.transport, on_retry=trouble_channel(self.progress)
        )

    def background_client(self) -> HttpClient:
        """For work done while the tests run: quiet, two attempts, a short budget."""
        return self.recipe.open(
            self.settings,
            transport=self.transport,
            attempts=2,
            deadline=Deadline(min(self.settings.deadline, PREPARE_BUDGET)),
        )
