"""Configuration of the Enterprise Tester emulator: what exists at start, delays, faults.

Everything here is plain data. :class:`EmulatorConfig` describes the server the emulator
pretends to be (users, projects, defect trackers, task timings); :class:`Faults` describes the
failures it injects into ``/api`` requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FAULT_WORDS", "EmulatorConfig", "Faults", "TrackerLink"]

#: The non-numeric outcomes ``Faults.fail_next`` accepts (a number there is an HTTP status).
FAULT_WORDS = frozenset({"reset", "drop_after_apply", "slow"})

_RATE_FIELDS = ("status_503", "status_429", "reset", "slow", "drop_after_apply")


@dataclass
class TrackerLink:
    """One defect-tracker external system link of a project (ref §6.1), with its tickets.

    ``name`` is the link's ``Name``; ``system_name`` is the ``ExternalSystemName`` of the external
    system behind it. Links of one project may share ticket keys: that is the case the
    ``ExternalSystemLinkId`` task parameter exists for (ref §5.3, seed 004).
    """

    name: str
    keys: list[str]
    system_name: str = "Jira"
    #: Ticket ``Url`` values are this prefix followed by the key. [inference]
    browse_url: str = "https://jira.example.com/browse/"


def _default_trackers() -> dict[str, list[TrackerLink]]:
    keys = ["PAY-17", "PAY-18", "PAY-19", "DEMO-1", "DEMO-2", "DEMO-3"]
    return {"Demo": [TrackerLink(name="Jira", keys=keys)]}


@dataclass
class Faults:
    """Failures injected into ``/api`` requests (never into ``/_emulator`` or the HTML page).

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
        return Faults(
            status_503=self.status_503,
            status_429=self.status_429,
            retry_after=self.retry_after,
            reset=self.reset,
            slow=self.slow,
            slow_seconds=self.slow_seconds,
            drop_after_apply=self.drop_after_apply,
            only_methods=methods,
            fail_next=list(self.fail_next),
        )


@dataclass
class EmulatorConfig:
    """The server the emulator pretends to be. Every field has a usable default."""

    #: Application path every route lives under (ref §1.1); anything outside it is a 404.
    app_path: str = "/EnterpriseTester"
    #: Logins with full rights, login -> password.
    users: dict[str, str] = field(default_factory=lambda: {"admin": "admin"})
    #: Logins that may only GET; any other method answers 403 (ref §1.3).
    readonly_users: dict[str, str] = field(default_factory=lambda: {"viewer": "viewer"})
    #: Projects that exist at start (the emulator never creates projects on its own).
    projects: list[str] = field(default_factory=lambda: ["Demo"])
    #: Defect-tracker links per project name.
    external_systems: dict[str, list[TrackerLink]] = field(default_factory=_default_trackers)
    #: Seconds before an import task completes and its run exists.
    import_delay: float = 0.05
    #: Seconds before a ticket-link (or reindex) task completes.
    link_delay: float = 0.02
    #: Seconds after completion before a task is flushed (GET answers 404, ref §5.2); 0 = at once.
    task_flush_after: float = 60.0
    #: Seconds added to every ``/api`` request.
    latency: float = 0.0
    #: Behave like an ET that does not know ``LinkTicketToAutomatedTestRunResultNode``.
    legacy_server: bool = False
    faults: Faults = field(default_factory=Faults)
    #: Seed of the fault-injection random generator.
    seed: int = 0
    #: ``PackagePathSeparator`` of ``/api/systeminfo`` (ref §1.1: defaults to a pipe).
    package_path_separator: str = "|"
    #: ``Version`` of ``/api/systeminfo``.
    version: str = "6.8.0.0"

    def __post_init__(self) -> None:
        path = "/" + self.app_path.strip("/")
        self.app_path = "" if path == "/" else path
        overlap = set(self.users) & set(self.readonly_users)
        if overlap:
            raise ValueError(f"logins both full and read-only: {sorted(overlap)}")
        unknown = set(self.external_systems) - set(self.projects)
        if unknown:
            raise ValueError(f"external_systems names unknown projects: {sorted(unknown)}")
        for name in ("import_delay", "link_delay", "task_flush_after", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"EmulatorConfig.{name} must not be negative")
        if not self.package_path_separator:
            raise ValueError("EmulatorConfig.package_path_separator must not be empty")
