"""What every emulator's ``EmulatorConfig`` holds: who may log in, and how it fails and waits.

Each server's ``EmulatorConfig`` is a dataclass that extends :class:`EmulatorBasics` with what
the server itself is made of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clock import Clock
from .faults import Faults

__all__ = ["EmulatorBasics"]


@dataclass
class EmulatorBasics:
    """Users, latency, faults and the clock; every field has a usable default."""

    #: Logins with full rights, login -> password.
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    #: Logins that may only read; a write answers 403.
    readonly_users: dict[str, str] = field(default_factory=lambda: {"viewer": "viewer"})
    #: Seconds added to every API request.
    latency: float = 0.0
    #: Failures injected into API requests (never into ``/_emulator`` or the page).
    faults: Faults = field(default_factory=Faults)
    #: Seed of the fault-injection random generator.
    seed: int = 0
    #: The time the emulator lives in (a test moves a ``ManualClock`` instead of waiting).
    clock: Clock = field(default_factory=Clock, repr=False, compare=False)

    def __post_init__(self) -> None:
        overlap = set(self.users) & set(self.readonly_users)
        if overlap:
            raise ValueError(f"logins both full and read-only: {sorted(overlap)}")
