"""The entities of the emulated Enterprise Tester: plain records, no behaviour beyond a few
derived values (a run's status, a task's completion, a run's ``Totals``)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "TOTALS_KEYS",
    "Assignment",
    "AutomatedTest",
    "Incident",
    "Link",
    "Package",
    "ParsedResults",
    "Project",
    "ResultNode",
    "Run",
    "Task",
    "Ticket",
    "User",
    "totals_of",
]

#: docs/servers/et.md §5.2: the counters of ``Totals``, in the documented order.
TOTALS_KEYS = (
    "Errors",
    "Failed",
    "Iterations",
    "NotRun",
    "Passed",
    "Skipped",
    "Warnings",
    "Done",
    "Infos",
    "TotalNodes",
    "TotalResults",
)


@dataclass(slots=True)
class User:
    login: str
    id: str
    readonly: bool


@dataclass(slots=True)
class Project:
    id: str
    name: str
    created_at: float
    order: int


@dataclass(slots=True)
class Ticket:
    """A ticket in an external defect tracker, seen through one link (docs/servers/et.md §8.2)."""

    id: str  # the tracker's internal, numeric id (docs/servers/et.md §8.2)
    key: str
    link_id: str
    url: str
    incident_id: str | None = None


@dataclass(slots=True)
class Link:
    """An external system link of type Incident (docs/servers/et.md §8.1)."""

    id: str
    project_id: str
    name: str
    system_id: str
    system_name: str
    tickets_by_key: dict[str, Ticket] = field(default_factory=dict)


@dataclass(slots=True)
class Incident:
    """An ET incident mirroring a ticket (docs/servers/et.md §8.3)."""

    id: str
    project_id: str
    link_id: str
    ticket_id: str
    ticket_key: str
    created_at: float


@dataclass(slots=True)
class Package:
    id: str
    kind: str  # "script" or "execution"
    project_id: str
    parent_id: str | None
    name: str
    order: int
    created_at: float


@dataclass(slots=True)
class AutomatedTest:
    id: str
    package_id: str
    project_id: str
    name: str
    type: str
    configuration: dict[str, object]
    created_at: float
    created_by: User
    order: int


@dataclass(slots=True)
class Assignment:
    id: str
    test_id: str
    package_id: str
    created_at: float
    created_by: User
    order: int


@dataclass(slots=True)
class ResultNode:
    """One result node of a run (docs/servers/et.md §5.3)."""

    id: str
    name: str
    status: str
    duration: float
    started_at: float
    finished_at: float
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    notes: str | None = None
    children: list[ResultNode] = field(default_factory=list)
    incident_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ParsedResults:
    """What the importer made of one upload: the nodes of the future run, or an error."""

    roots: list[ResultNode] = field(default_factory=list)
    index: dict[str, ResultNode] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # leaf status -> count
    started_at: float = 0.0
    finished_at: float = 0.0
    error: str | None = None

    @property
    def leaf_count(self) -> int:
        return sum(self.counts.values())


@dataclass(slots=True)
class Run:
    id: str
    assignment_id: str
    run_by: User
    imported_at: float
    started_at: float
    finished_at: float
    roots: list[ResultNode]
    nodes: dict[str, ResultNode]
    counts: dict[str, int]

    @property
    def status(self) -> str:
        """ "Failed" if any leaf failed or errored, else "Passed" (also for an empty run)."""
        if self.counts.get("Failed", 0) or self.counts.get("Error", 0):
            return "Failed"
        return "Passed"


@dataclass(slots=True)
class Task:
    """A background task (docs/servers/et.md §7). ``kind`` is import, link, ticketlink or
    reindex."""

    id: str
    kind: str
    started_at: float
    due_at: float
    total: int
    processed: int
    progress: float
    message: str | None
    done_message: str | None = None
    finished_at: float | None = None
    error: str | None = None
    incident_id: str | None = None
    # import
    assignment_id: str | None = None
    login: str = ""
    parsed: ParsedResults | None = None
    # link (LinkTicketToAutomatedTestRunResultNode) and ticketlink
    run_id: str | None = None
    node_id: str | None = None
    ticket: Ticket | None = None

    @property
    def complete(self) -> bool:
        return self.finished_at is not None


def totals_of(run: Run) -> dict[str, int]:
    """docs/servers/et.md §5.2 ``Totals``: leaf counts per status; ``TotalNodes`` counts every
    node."""
    counts = run.counts
    totals = dict.fromkeys(TOTALS_KEYS, 0)
    totals["Errors"] = counts.get("Error", 0)
    totals["Failed"] = counts.get("Failed", 0)
    totals["Passed"] = counts.get("Passed", 0)
    totals["Skipped"] = counts.get("Skipped", 0)
    totals["TotalNodes"] = len(run.nodes)
    totals["TotalResults"] = sum(counts.values())
    return totals
