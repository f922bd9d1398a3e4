"""Waiting for server-side work (import tasks, queue jobs): one loop for every target.

Bounded by the upload's deadline. Waits stay at ``first`` for the first ``steady`` seconds —
most server work (an import, a queue job) ends within them, and a growing wait would see it
late — then grow by half each time up to ``longest``. Under
``stamina.set_testing`` (the test suite) waits are capped at a hundredth of a second, so
tests of polling cost no time and still see each state; the clock is injectable for tests
that measure the waiting itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, TypeVar

import stamina

from tmupload.errors import TaskError

__all__ = ["Clock", "Deadline", "poll"]

T = TypeVar("T")

_TESTING_WAIT = 0.01


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class _SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


SYSTEM_CLOCK: Clock = _SystemClock()


class Deadline:
    """An overall time budget shared by every request and wait of one upload."""

    def __init__(
        self, seconds: float, clock: Clock = SYSTEM_CLOCK, *, setting: str = "--tm-deadline"
    ) -> None:
        self.seconds = seconds
        self.setting = setting  # how the user sets it, for messages
        self._clock = clock
        self._end = clock.monotonic() + seconds

    def remaining(self) -> float:
        return self._end - self._clock.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


def poll(
    check: Callable[[], T | None],
    *,
    deadline: Deadline,
    what: str,
    first: float = 0.05,
    longest: float = 2.0,
    steady: float = 2.0,
    clock: Clock = SYSTEM_CLOCK,
    detail: Callable[[], str] | None = None,
) -> T:
    """Call ``check`` until it returns something other than None, and return that.

    ``check`` raises to stop early (a failed task). Past the deadline, a TaskError names
    ``what``, the deadline setting and ``detail()`` (e.g. the task's URL).
    """
    delay = first
    started = clock.monotonic()
    while True:
        found = check()
        if found is not None:
            return found
        wait = min(delay, _TESTING_WAIT) if stamina.is_testing() else delay
        if deadline.remaining() < wait:
            extra = f"; {detail()}" if detail is not None else ""
            raise TaskError(
                f"{what} did not finish before the deadline ({deadline.setting} "
                f"{deadline.seconds:g}s){extra}"
            )
        clock.sleep(wait)
        if clock.monotonic() - started >= steady:
            delay = min(delay * 1.5, longest)
