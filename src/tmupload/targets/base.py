"""What every target (Enterprise Tester now; qTest Manager and Zephyr Enterprise next) provides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from tmupload.models import RunReport

__all__ = ["Delivery", "Journal", "LinkResult", "LinkStatus", "MemoryJournal", "Target"]

LinkStatus = Literal["linked", "already_linked", "unknown_ticket", "failed", "pending"]


@dataclass(frozen=True)
class LinkResult:
    """What became of one (case, ticket key) pair."""

    case_id: str
    key: str
    status: LinkStatus
    reason: str = ""


@dataclass
class Delivery:
    """What a target did with one run (or, in a dry run, would do)."""

    target: str
    run_id: str | None = None
    run_url: str | None = None
    server_status: str | None = None
    server_totals: dict[str, int] = field(default_factory=dict)
    node_ids: dict[str, str] = field(default_factory=dict)  # case id -> server node id
    node_statuses: dict[str, str] = field(default_factory=dict)  # case id -> server status
    unmapped: list[str] = field(default_factory=list)  # case ids the server shows no node for
    links: list[LinkResult] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)  # dry run: what would be created and sent
    requests: int = 0
    bytes_sent: int = 0


class Journal(Protocol):
    """Durable record of finished steps, so an interrupted delivery resumes where it stopped."""

    def step(self, name: str) -> dict[str, Any] | None:
        """The data recorded for a finished step, or None if it has not finished."""
        ...

    def record(self, name: str, data: dict[str, Any]) -> None:
        """Record a step (atomically) before moving on."""
        ...


class MemoryJournal:
    """A Journal that keeps nothing beyond the process (dry runs, tests)."""

    def __init__(self) -> None:
        self.steps: dict[str, dict[str, Any]] = {}

    def step(self, name: str) -> dict[str, Any] | None:
        return self.steps.get(name)

    def record(self, name: str, data: dict[str, Any]) -> None:
        self.steps[name] = data


class Target(Protocol):
    """One test-management server."""

    name: str

    def describe(self) -> str:
        """One line for the pytest header: where results go."""
        ...

    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        """Send the run, record each finished step in the journal, return what landed."""
        ...

    def plan(self, run: RunReport) -> Delivery:
        """Resolve everything read-only and say what deliver() would create and send."""
        ...
