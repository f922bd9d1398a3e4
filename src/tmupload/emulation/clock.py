"""The time an emulator lives in: the real clock, or one a test moves by hand.

Every emulator reads the time through ``EmulatorConfig.clock`` (task and job deadlines, token
and cookie expiry, timestamps it writes) and waits through it (``latency``, the ``slow``
fault), so a test can let a minute pass without waiting for it.
"""

from __future__ import annotations

import threading
import time

__all__ = ["Clock", "ManualClock"]


class Clock:
    """The real clock (the default of every emulator)."""

    def time(self) -> float:
        """Seconds since the epoch, as ``time.time()``."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``, as ``time.sleep()``."""
        time.sleep(seconds)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ManualClock(Clock):
    """A clock that stands still until :meth:`advance` moves it; :meth:`sleep` moves it too.

    It starts at the real time of its creation, so what an emulator stamps with it still
    looks like today.
    """

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else start

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)

    def advance(self, seconds: float) -> float:
        """Move the clock ``seconds`` forward; returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += seconds
            return self._now
