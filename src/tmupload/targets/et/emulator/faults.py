"""Deciding, per ``/api`` request, which fault (if any) to inject.

One ``random.Random(seed)`` draw per eligible request picks at most one fault, so two
emulators with the same seed and the same request sequence inject the same faults. The
``fail_next`` queue is consumed first and draws nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .config import Faults

__all__ = ["NO_FAULT", "Decision", "FaultInjector"]


@dataclass(frozen=True)
class Decision:
    """What to do with one request. At most one field is set."""

    status: int | None = None  # answer at once with this status, without processing
    reset: bool = False  # close the connection without processing or answering
    drop_after_apply: bool = False  # process, then close the connection without answering
    slow: float = 0.0  # sleep this long, then process normally


NO_FAULT = Decision()


class FaultInjector:
    """Holds the current :class:`Faults` and the seeded generator. Call under the lock."""

    def __init__(self, faults: Faults, seed: int) -> None:
        self.faults = faults
        self._random = random.Random(seed)

    def decide(self, method: str) -> Decision:
        faults = self.faults
        method = method.upper()
        if faults.only_methods is not None and method not in faults.only_methods:
            return NO_FAULT
        if faults.fail_next:
            return self._forced(faults.fail_next.pop(0))
        bands = (
            faults.status_503,
            faults.status_429,
            faults.reset,
            faults.drop_after_apply,
            faults.slow,
        )
        if not any(bands):
            return NO_FAULT
        draw = self._random.random()
        edge = 0.0
        for index, rate in enumerate(bands):
            edge += rate
            if draw < edge:
                return self._banded(index, method)
        return NO_FAULT

    def _banded(self, index: int, method: str) -> Decision:
        if index == 0:
            return Decision(status=503)
        if index == 1:
            return Decision(status=429)
        if index == 2:
            return Decision(reset=True)
        if index == 3:
            # only a POST can be applied and then lost; other methods answer normally
            return Decision(drop_after_apply=True) if method == "POST" else NO_FAULT
        return Decision(slow=self.faults.slow_seconds)

    def _forced(self, item: int | str) -> Decision:
        if item == "reset":
            return Decision(reset=True)
        if item == "drop_after_apply":
            return Decision(drop_after_apply=True)
        if item == "slow":
            return Decision(slow=self.faults.slow_seconds)
        assert isinstance(item, int)
        return Decision(status=item)
