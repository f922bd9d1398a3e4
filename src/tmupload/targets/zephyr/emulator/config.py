"""Configuration of the Zephyr Enterprise emulator: what exists at start, limits, faults.

Everything here is plain data. :class:`EmulatorConfig` describes the server the emulator
pretends to be (users, API tokens, projects and releases, the execution status list, defect
keys, bulk and paging limits); :class:`Faults` describes the failures it injects into REST and
upload requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tmupload.emulation.config import EmulatorBasics
from tmupload.emulation.faults import Faults

__all__ = ["DEFAULT_DEFECTS", "EmulatorConfig", "ExecutionStatus", "Faults", "default_statuses"]

DEFAULT_DEFECTS = ["PAY-17", "PAY-18", "PAY-19", "DEMO-1", "DEMO-2", "DEMO-3"]


@dataclass(frozen=True)
class ExecutionStatus:
    """One entry of the ``testresult.testresultStatus.LOV`` preference
    (docs/servers/zephyr.md §5.6)."""

    id: int
    name: str
    active: bool = True
    color: str = "#999999"


def default_statuses() -> list[ExecutionStatus]:
    """docs/servers/zephyr.md §5.6 [DOC]: 1 PASS, 2 FAIL, 3 WIP, 4 Blocked.

    [inference] ``10`` "Not Executed" is listed too: the reference names 10 as the vendor's
    "not executed" id (for step results) and an unexecuted execution needs some status. ``5``
    "Deferred" is an *inactive* custom status (statuses "can be customised per instance" and
    carry ``active``, docs/servers/zephyr.md §5.6) so a client can be tested against one.
    """
    return [
        ExecutionStatus(1, "Pass", True, "#2e7d32"),
        ExecutionStatus(2, "Fail", True, "#c62828"),
        ExecutionStatus(3, "WIP", True, "#ef6c00"),
        ExecutionStatus(4, "Blocked", True, "#3949ab"),
        ExecutionStatus(5, "Deferred", False, "#9e9e9e"),
        ExecutionStatus(10, "Not Executed", True, "#757575"),
    ]


@dataclass
class EmulatorConfig(EmulatorBasics):
    """The Zephyr Enterprise server the emulator pretends to be. Every field has a default.

    Logins authenticate with Basic auth (docs/servers/zephyr.md §3); read-only ones may only read,
    any other method answers 403 (docs/servers/zephyr.md §5.9 lists 403). ``latency`` is added to
    every REST and upload request.
    """

    #: API tokens (``Authorization: Bearer``, docs/servers/zephyr.md §3), token -> login. A token
    #: whose login is in neither ``users`` nor ``readonly_users`` authenticates nobody (401).
    tokens: dict[str, str] = field(default_factory=lambda: {"demo-token": "admin"})
    #: Projects at start, name -> release names; ids are numeric and assigned in order.
    projects: dict[str, list[str]] = field(default_factory=lambda: {"Demo": ["2026.4"]})
    #: The execution status list served through the preference (docs/servers/zephyr.md §5.6).
    statuses: list[ExecutionStatus] = field(default_factory=default_statuses)
    #: The status an execution has until one is set. [inference] docs/servers/zephyr.md §5.6 names
    #: 10.
    not_executed_status_id: int = 10
    #: Defect keys that exist in the linked tracker (``POST /defectmapping/``,
    #: docs/servers/zephyr.md §5.8).
    defects: list[str] = field(default_factory=lambda: list(DEFAULT_DEFECTS))
    #: Most items one bulk call may carry (docs/servers/zephyr.md §2: the vendor's ``BATCH_SIZE``);
    #: more is a 400.
    max_bulk: int = 500
    #: Strict mode: play the strictest plausible server where the reference leaves a bound
    #: open. docs/servers/zephyr.md §2 [CLIENT]: the vendor plugin sends writes in batches of at
    #: most 500 (``BATCH_SIZE``); the server's own limit is not published. Off, a bulk call is
    #: measured by the items it *carries*; on, also by what it *selects*:
    #:
    #: * ``assign/bytree`` (docs/servers/zephyr.md §5.5 step 1): an ``isExclusion: true`` item
    #:   counts as every test case of its folder it adds (all but the listed ones), not as its
    #:   listed ids;
    #: * ``POST /assignmenttree/{phase}/assign`` (docs/servers/zephyr.md §5.5 step 2, empty body): a
    #:   400 when it would create more than ``max_bulk`` executions (the reference does not say that
    #:   it is unbounded).
    #:
    #: In both modes every other bulk call carries at most ``max_bulk`` items: testcase/bulk,
    #: execution/modify's ``createRTSList``, ``execution/bulk/execute``, ``PUT
    #: /execution/bulk``'s ``ids``, ``attachment/list``, the upload's files, defectmapping.
    #: Switched at run time by ``POST /_emulator/strict`` ``{"strict": true}``.
    strict: bool = False
    #: Most executions one ``GET /execution`` page returns, whatever ``pagesize`` asks.
    #: [inference] ``resultSize`` carries the full count, so a client must page by it.
    result_size_cap: int = 100
    #: Longest test-case name (docs/servers/zephyr.md §2: the vendor cuts at 255); a longer one is a
    #: 400.
    max_name_length: int = 255
    #: Answer ``GET /testcasetree?type=Phase`` as ``{"results": [...]}`` rather than a bare
    #: array (docs/servers/zephyr.md §5.2: "returns a bare array or {"results":[…]}, so handle
    #: both").
    tree_results_envelope: bool = False
    #: The ``cycle.environment.enabled`` system preference (docs/servers/zephyr.md §5.4): cycles
    #: then need one.
    environment_required: bool = False
    #: Methods the single-execution status call accepts (docs/servers/zephyr.md §5.6: PUT [BP] vs
    #: POST [DOC]).
    single_execute_methods: tuple[str, ...] = ("PUT", "POST")
    #: Seconds a ``/manifest`` session cookie lives (docs/servers/zephyr.md §3: Max-Age=5400).
    cookie_max_age: float = 5400.0

    def __post_init__(self) -> None:
        super().__post_init__()
        ids = [status.id for status in self.statuses]
        if len(ids) != len(set(ids)):
            raise ValueError("EmulatorConfig.statuses has duplicate ids")
        if self.not_executed_status_id not in ids:
            raise ValueError("not_executed_status_id must be one of the statuses")
        if self.max_bulk < 1 or self.result_size_cap < 1 or self.max_name_length < 1:
            raise ValueError("max_bulk, result_size_cap and max_name_length must be positive")
        if self.latency < 0 or self.cookie_max_age < 0:
            raise ValueError("latency and cookie_max_age must not be negative")
        self.single_execute_methods = tuple(m.upper() for m in self.single_execute_methods)

    def status(self, status_id: int) -> ExecutionStatus | None:
        return next((s for s in self.statuses if s.id == status_id), None)
