"""Faults an emulator injects, and deciding, per request, which one (if any) to inject.

One ``random.Random(seed)`` draw per eligible request picks at most one fault, so two
emulators with the same seed and the same request sequence inject the same faults. The
``fail_next`` queue is consumed first and draws nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace

__all__ = [
    "FAULT_WORDS",
    "NO_FAULT",
    "SPEC_WORDS",
    "Decision",
    "FaultInjector",
    "Faults",
    "parse_faults_spec",
]

#: The non-numeric outcomes ``Faults.fail_next`` accepts (a number there is an HTTP status).
FAULT_WORDS = frozenset({"reset", "drop_after_apply", "slow"})

_RATE_FIELDS = ("status_503", "status_429", "reset", "slow", "drop_after_apply")

#: The words of a fault spec (:func:`parse_faults_spec`) -> the ``Faults`` rate field.
SPEC_WORDS: dict[str, str] = {
    "503": "status_503",
    "429": "status_429",
    "reset": "reset",
    "slow": "slow",
    "drop_after_apply": "drop_after_apply",
}


@dataclass
class Faults:
    """Failures injected into API requests (never into ``/_emulator`` or the HTML page).

    Rates are probabilities in ``[0, 1]`` and are drawn from one seeded ``random.Random`` per
    request, so the same seed gives the same sequence of faults. Their sum must not exceed 1:
    a single draw picks at most one of 503, 429, reset, drop-after-apply and slow.

    ``fail_next`` is a queue of forced outcomes, consumed one per eligible request before any
    random draw: an HTTP status (``503``, ``429``, ``500`` ...) or one of ``"reset"``,
    ``"drop_after_apply"`` and ``"slow"``. ``only_methods`` restricts both the rates and the
    queue to requests with those methods.
    """

    status_503: float = 0.0
    status_429: float = 0.0
    #: Seconds sent in ``Retry-After`` with an injected 429.
    retry_after: int = 1
    #: Close the connection abruptly, without processing the request or answering.
    reset: float = 0.0
    #: Sleep ``slow_seconds`` before answering normally.
    slow: float = 0.0
    slow_seconds: float = 2.0
    #: POST only: apply the request to the state, then reset the connection without answering.
    drop_after_apply: float = 0.0
    only_methods: set[str] | None = None
    fail_next: list[int | str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in _RATE_FIELDS:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"Faults.{name} must be within [0, 1], got {rate!r}")
        total = sum(getattr(self, name) for name in _RATE_FIELDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault rates add up to {total:g}; they must not exceed 1")
        if self.retry_after < 0 or self.slow_seconds < 0:
            raise ValueError("Faults.retry_after and Faults.slow_seconds must not be negative")
        if self.only_methods is not None:
            self.only_methods = {method.upper() for method in self.only_methods}
        self.fail_next = list(self.fail_next)
        for item in self.fail_next:
            valid_status = isinstance(item, int) and 100 <= item <= 599
            if not valid_status and item not in FAULT_WORDS:
                words = ", ".join(sorted(FAULT_WORDS))
                raise ValueError(
                    f"Faults.fail_next entries are HTTP statuses or one of {words}; got {item!r}"
                )

    def copy(self) -> Faults:
        """An independent copy (``fail_next`` is consumed in place by the emulator)."""
        methods = None if self.only_methods is None else set(self.only_methods)
        return replace(self, only_methods=methods, fail_next=list(self.fail_next))


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


def parse_faults_spec(spec: str) -> Faults:
    """``"503:0.1,429:0.05,reset:0.02"`` -> ``Faults(status_503=0.1, status_429=0.05,
    reset=0.02)``.

    Comma-separated ``WORD:RATE`` items: WORD is one of :data:`SPEC_WORDS` (or the ``Faults``
    field name, e.g. ``status_503``), RATE a probability in ``[0, 1]``; the rates must not add
    up to more than 1. An empty spec means no faults. ValueError, with a one-line message
    that names the accepted words, when the spec is bad.
    """
    try:
        rates = _spec_rates(spec)
        return Faults(
            status_503=rates.get("status_503", 0.0),
            status_429=rates.get("status_429", 0.0),
            reset=rates.get("reset", 0.0),
            slow=rates.get("slow", 0.0),
            drop_after_apply=rates.get("drop_after_apply", 0.0),
        )
    except ValueError as exc:
        words = ", ".join(SPEC_WORDS)
        raise ValueError(
            f"{exc}; write comma-separated WORD:RATE items, WORD one of {words}, "
            "RATE a number in [0, 1] (e.g. 503:0.1,429:0.05,reset:0.02)"
        ) from None


def _spec_rates(spec: str) -> dict[str, float]:
    fields = set(SPEC_WORDS.values())
    rates: dict[str, float] = {}
    if not spec.strip():
        return rates
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise ValueError("an empty item")
        word, sep, raw_rate = (text.strip() for text in item.partition(":"))
        key = word.lower().replace("-", "_")
        name = SPEC_WORDS.get(key, key if key in fields else "")
        if not name:
            raise ValueError(f"unknown fault {word!r}")
        try:
            rate = float(raw_rate) if sep else float("nan")
        except ValueError:
            rate = float("nan")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{item!r} has no rate in [0, 1]")
        if name in rates:
            raise ValueError(f"{word!r} is given twice")
        rates[name] = rate
    return rates
