"""Configuration of the qTest Manager emulator: what exists at start, timings, faults.

Everything here is plain data. :class:`EmulatorConfig` describes the site the emulator pretends
to be (users, API tokens, projects, releases, defects, the automation status mapping, job
timing, the body-size limit); :class:`Faults` describes the failures it injects into ``/api``
and ``/oauth`` requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tmupload.emulation.config import EmulatorBasics
from tmupload.emulation.faults import Faults

__all__ = ["DEFAULT_EXECUTION_STATUSES", "DEFAULT_STATUS_MAP", "EmulatorConfig", "Faults"]

#: Execution statuses of a project (docs/servers/qtest.md §6: per site, never hard-coded; the spec's
#: example is ``{"id": 601, "name": "Passed"}``). [inference] the other names and ids follow qTest's
#: usual defaults; a client must read them from ``…/test-runs/execution-statuses``.
DEFAULT_EXECUTION_STATUSES: dict[str, int] = {
    "Passed": 601,
    "Failed": 602,
    "Incomplete": 603,
    "Blocked": 604,
    "Unexecuted": 605,
}

#: Automation status string -> execution status name (docs/servers/qtest.md §6: set per project
#: under Automation Settings; the default table is [UNCONFIRMED]). [inference] both spellings the
#: reference reports (``PASS``/``FAIL``/``SKIP`` and ``PASSED``/``FAILED``/``SKIPPED``) are
#: mapped, skips to ``Unexecuted``; matching is case-insensitive (third-party reporters send
#: "pass"/"fail", docs/servers/qtest.md §6).
DEFAULT_STATUS_MAP: dict[str, str] = {
    "PASS": "Passed",
    "PASSED": "Passed",
    "FAIL": "Failed",
    "FAILED": "Failed",
    "SKIP": "Unexecuted",
    "SKIPPED": "Unexecuted",
    "BLOCKED": "Blocked",
    "INCOMPLETE": "Incomplete",
    "UNEXECUTED": "Unexecuted",
}

_DEFAULT_DEFECTS = ["PAY-17", "PAY-18", "PAY-19", "DEMO-1", "DEMO-2", "DEMO-3"]


@dataclass
class EmulatorConfig(EmulatorBasics):
    """The qTest site the emulator pretends to be. Every field has a usable default.

    Logins get their tokens from ``POST /oauth/token`` (docs/servers/qtest.md §3.2); read-only ones
    may only read, a write answers 403 (docs/servers/qtest.md §7.2's 403 text). ``latency`` is added
    to every ``/api`` and ``/oauth`` request.
    """

    #: Static API tokens (docs/servers/qtest.md §3.1, ``Authorization: Bearer <token>``), token ->
    #: login.
    tokens: dict[str, str] = field(default_factory=lambda: {"demo-token": "admin"})
    #: The site name the ``/oauth/token`` Basic header must carry (docs/servers/qtest.md §3.2); None
    #: accepts any.
    site_name: str | None = None
    #: Seconds an access token from ``/oauth/token`` lives (``expires_in``; spec example 300).
    token_lifetime: float = 300.0
    #: Projects that exist at start; they get numeric ids (the emulator never creates projects).
    projects: list[str] = field(default_factory=lambda: ["Demo"])
    #: Releases per project name (``GET …/releases``; test cycles may sit under them,
    #: docs/servers/qtest.md §8).
    releases: dict[str, list[str]] = field(default_factory=lambda: {"Demo": ["Release 1.0"]})
    #: Defects per project name that can be linked: qTest defect PIDs or external (Jira) keys
    #: (docs/servers/qtest.md §7.1, §7.2).
    defects: dict[str, list[str]] = field(default_factory=lambda: {"Demo": list(_DEFAULT_DEFECTS)})
    #: Execution statuses of every project, name -> id (docs/servers/qtest.md §6).
    execution_statuses: dict[str, int] = field(
        default_factory=lambda: dict(DEFAULT_EXECUTION_STATUSES)
    )
    #: Automation status string (matched case-insensitively) -> execution status name
    #: (docs/servers/qtest.md §6).
    status_map: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STATUS_MAP))
    #: Seconds a queue job spends in IN_WAITING then IN_PROCESSING (half each) before it ends
    #: in SUCCESS or FAILED (docs/servers/qtest.md §5). The submission lands when the job ends.
    job_delay: float = 0.05
    #: A request body larger than this answers 413 (docs/servers/qtest.md §4.4: the limit is
    #: [UNCONFIRMED]).
    max_body_bytes: int = 16 * 1024 * 1024
    #: Write a FAILED job's ``content`` as plain text instead of a JSON string: the vendor
    #: plugin prints a non-JSON ``content`` as the error (docs/servers/qtest.md §5, [CLIENT]); a
    #: client must cope with both. Default: JSON with a ``message`` key [inference].
    plain_text_failures: bool = False
    #: Strict mode: the strictest plausible answer where the reference leaves open what a
    #: client could depend on.
    #:
    #: * Test runs (``GET …/test-runs`` listing, ``GET …/test-runs/{id}``, search of
    #:   ``test-runs``) show no Automation Content: no "Automation Content" property and
    #:   ``test_case`` only ``{"id": …}``, ``expand=testcase`` or not. docs/servers/qtest.md §8
    #:   lists runs as ``TestRunListResource`` without promising that field, and
    #:   docs/servers/qtest.md §7.4 finds a run without it; only the *test case* carries the
    #:   fingerprint (docs/servers/qtest.md §4.1), so ``GET …/test-cases/{id}`` and a search of
    #:   ``test-cases`` still show it.
    #: * A SUCCESS job's ``content`` is the empty JSON object ``"{}"``: docs/servers/qtest.md §5
    #:   leaves its keys for ``type=automation`` jobs [UNCONFIRMED] (no run, log or test-case ids,
    #:   no count, no ``linkedDefects``, docs/servers/qtest.md §7.1). A FAILED job still says why
    #:   (docs/servers/qtest.md §9).
    #:
    #: Off: runs show the property and expand their test case, jobs report what landed.
    #: Switched at run time by ``POST /_emulator/strict`` ``{"strict": true}``.
    strict: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        logins = set(self.users) | set(self.readonly_users)
        strangers = {login for login in self.tokens.values() if login not in logins}
        if strangers:
            raise ValueError(f"tokens name unknown logins: {sorted(strangers)}")
        for name in ("releases", "defects"):
            unknown = set(getattr(self, name)) - set(self.projects)
            if unknown:
                raise ValueError(f"EmulatorConfig.{name} names unknown projects: {sorted(unknown)}")
        if len(set(self.projects)) != len(self.projects):
            raise ValueError("EmulatorConfig.projects has duplicate names")
        missing = set(self.status_map.values()) - set(self.execution_statuses)
        if missing:
            raise ValueError(f"status_map targets unknown execution statuses: {sorted(missing)}")
        self.status_map = {key.upper(): value for key, value in self.status_map.items()}
        for name in ("token_lifetime", "job_delay", "latency"):
            if getattr(self, name) < 0:
                raise ValueError(f"EmulatorConfig.{name} must not be negative")
        if self.max_body_bytes <= 0:
            raise ValueError("EmulatorConfig.max_body_bytes must be positive")
