"""What the Zephyr target finds before the session end: the placement and the cycle.

``prepare`` (a thread of the core's, while the tests run) and the stream's own thread both
want the placement; it is resolved once, for both, and never again after it failed (``deliver``
resolves it itself and reports the problem). ``prepare`` also looks the cycle up (never creates
it). What is found here is a hint: ``deliver`` checks it against its run.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tmupload.errors import TmUploadError
from tmupload.targets.toolkit.connection import Connection
from tmupload.targets.zephyr.api import ZephyrApi
from tmupload.targets.zephyr.cycle import find_cycle
from tmupload.targets.zephyr.placement import Placement, resolve_placement

__all__ = ["Lookahead"]

log = logging.getLogger("tmupload.targets.zephyr")


class Lookahead:
    """The placement and the cycle as found while the tests ran (each None until found)."""

    def __init__(self, connection: Connection, status_map: dict[str, str]) -> None:
        self.connection = connection
        self.settings = connection.settings
        self._status_map = status_map
        self._lock = threading.Lock()
        self._placement: Placement | None = None
        self._cycle: dict[str, Any] | None = None
        self._failed = False

    def placement(self, api: ZephyrApi) -> Placement | None:
        """The placement, resolved once for ``prepare`` and the stream (None if that
        failed: deliver resolves it again and reports the problem)."""
        with self._lock:
            if self._placement is None and not self._failed:
                try:
                    self._placement = resolve_placement(api, self.settings, self._status_map)
                except TmUploadError as exc:
                    self._failed = True
                    log.debug("resolving the placement ahead failed (deliver retries): %s", exc)
            return self._placement

    def prepare(self) -> None:
        """Look the placement and the cycle up (never create them). A problem here is left
        for ``deliver`` to find and report."""
        try:
            with self.connection.background_client() as http:
                api = ZephyrApi(http)
                placement = self.placement(api)
                if placement is None:
                    return
                cycle = find_cycle(api, placement.release_id, str(self.settings.option("cycle")))
                with self._lock:
                    if self._cycle is None:
                        self._cycle = cycle
        except TmUploadError as exc:
            log.debug("looking the cycle up ahead failed (deliver retries): %s", exc)

    def found_placement(self) -> Placement | None:
        """The placement, if it was found (what ``deliver`` starts from)."""
        return self._placement

    def cycle_in(self, release_id: int) -> dict[str, Any] | None:
        """The cycle ``prepare`` found, if it looked in this release."""
        placement = self._placement
        if placement is None or placement.release_id != release_id:
            return None
        return self._cycle
