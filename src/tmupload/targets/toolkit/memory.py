"""A Journal (targets/base.py) kept in memory: work done before there is an outbox entry.

While the tests run the results are not spooled yet, so a stream that sends early (qTest's)
records what it did here, with the same records a journal on disk would hold; ``deliver``
then writes them into the entry's journal.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["MemoryJournal"]


class MemoryJournal:
    """A Journal (targets/base.py) in memory: the stream's, until ``deliver`` writes it down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[str, dict[str, Any]] = {}
        self._intents: dict[str, dict[str, Any]] = {}
        self._items: dict[str, dict[str, dict[str, Any]]] = {}

    def done(self, step: str) -> dict[str, Any] | None:
        return self._done.get(step)

    def finish(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._done[step] = data
            self._intents.pop(step, None)

    def intent(self, step: str) -> dict[str, Any] | None:
        return self._intents.get(step)

    def declare(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._intents[step] = data

    def items(self, kind: str) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._items.get(kind, {}))

    def item_done(self, kind: str, key: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._items.setdefault(kind, {})[key] = data
