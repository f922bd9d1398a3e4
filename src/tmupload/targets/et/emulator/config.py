"""Configuration of the Enterprise Tester emulator: what exists at start, delays, faults.

Everything here is plain data. :class:`EmulatorConfig` describes the server the emulator
pretends to be (users, projects, defect trackers, task timings); :class:`Faults` describes the
failures it injects into ``/api`` requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tmupload.emulation.config import EmulatorBasics
from tmupload.emulation.faults import Faults

__all__ = ["EmulatorConfig", "Faults", "TrackerLink"]


@dataclass
class TrackerLink:
    """One defect-tracker external system link of a project (docs/servers/et.md §8.1), with its
    tickets.

    ``name`` is the link's ``Name``; ``system_name`` is the ``ExternalSystemName`` of the external
    system behind it. Links of one project may share ticket keys: that is the case the
    ``ExternalSystemLinkId`` task parameter exists for (docs/servers/et.md §7, §7.3).
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
class EmulatorConfig(EmulatorBasics):
    """The server the emulator pretends to be. Every field has a usable default.

    Logins authenticate with Basic auth; read-only ones may only GET, any other method
    answers 403 (docs/servers/et.md §2.3). ``latency`` is added to every ``/api`` request.
    """

    #: Application path every route lives under (docs/servers/et.md §2.1); anything outside it is a
    #: 404.
    app_path: str = "/EnterpriseTester"
    #: Projects that exist at start (the emulator never creates projects on its own).
    projects: list[str] = field(default_factory=lambda: ["Demo"])
    #: Defect-tracker links per project name.
    external_systems: dict[str, list[TrackerLink]] = field(default_factory=_default_trackers)
    #: Seconds before an import task completes and its run exists.
    import_delay: float = 0.05
    #: Seconds before a ticket-link (or reindex) task completes.
    link_delay: float = 0.02
    #: Seconds after completion before a task is flushed (GET answers 404, docs/servers/et.md §7.2);
    #: 0 = at once.
    task_flush_after: float = 60.0
    #: Behave like an ET that does not know ``LinkTicketToAutomatedTestRunResultNode``.
    legacy_server: bool = False
    #: ``PackagePathSeparator`` of ``/api/systeminfo`` (docs/servers/et.md §2.1: defaults to a
    #: pipe).
    package_path_separator: str = "|"
    #: ``Version`` of ``/api/systeminfo``.
    version: str = "6.8.0.0"

    def __post_init__(self) -> None:
        path = "/" + self.app_path.strip("/")
        self.app_path = "" if path == "/" else path
        super().__post_init__()
        unknown = set(self.external_systems) - set(self.projects)
        if unknown:
            raise ValueError(f"external_systems names unknown projects: {sorted(unknown)}")
        for name in ("import_delay", "link_delay", "task_flush_after", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"EmulatorConfig.{name} must not be negative")
        if not self.package_path_separator:
            raise ValueError("EmulatorConfig.package_path_separator must not be empty")
