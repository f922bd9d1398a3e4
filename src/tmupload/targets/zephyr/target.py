"""The Zephyr Enterprise target: docs/servers/zephyr.md §7 on top of ``ZephyrApi``.

A delivery places the run (tester, project, release, statuses), finds or creates the
repository's folders and test cases, the cycle and this upload's phase, makes the executions,
sets their statuses (reading them back when the answers showed too little), links the defects
and sends the files: each step journaled before the next (``steps.py``), so that a resend
resumes where it stopped.

Work that does not wait for the session end: ``prepare`` looks the placement and the cycle up
while the tests run (``ahead.py``), and ``stream`` places each case as its test ends and, on an
xdist controller, finds and creates the repository folders and test cases meanwhile
(``stream.py``). Both are hints: ``deliver`` checks them against its run and does the rest, and
works the same without them.
"""

from __future__ import annotations

from tmupload.http.client import HttpClient
from tmupload.linking import link_requests
from tmupload.models import RunReport
from tmupload.targets.base import Delivery, Journal, quiet, trouble_channel
from tmupload.targets.toolkit.steps import STATUSES
from tmupload.targets.toolkit.target import ServerTarget
from tmupload.targets.zephyr.ahead import Lookahead
from tmupload.targets.zephyr.api import ZEPHYR_CLIENT, ZephyrApi
from tmupload.targets.zephyr.cycle import find_cycle
from tmupload.targets.zephyr.linking import DefectLinker
from tmupload.targets.zephyr.payload import cut_name, split_path
from tmupload.targets.zephyr.placement import Placement, resolve_placement
from tmupload.targets.zephyr.preflight import preflight
from tmupload.targets.zephyr.repository import Cases, Folders
from tmupload.targets.zephyr.statusmap import parse_status_map
from tmupload.targets.zephyr.steps import ZephyrSteps
from tmupload.targets.zephyr.stream import Found, Seen, ZephyrStream, place_of

__all__ = ["ZephyrTarget"]

TITLE = "Zephyr Enterprise"


class ZephyrTarget(ServerTarget):
    """Deliver a RunReport to Zephyr Enterprise as one phase of executions in a cycle."""

    name = TITLE
    recipe = ZEPHYR_CLIENT

    def _configure(self) -> None:
        settings = self.settings
        # A bad map is a ConfigError here, before anything runs: the plugin builds the target
        # when pytest starts, so the session stops with one message instead of uploading late.
        self.option = settings.flag("status_map")
        self.status_map = parse_status_map(settings.option("status_map"), self.option)
        self.root = tuple(split_path(settings.option("repository_folder")) or ["Automation"])
        # Found before deliver (prepare, stream): hints it checks and completes.
        self._ahead = Lookahead(self.connection, self.status_map)
        self._stream: ZephyrStream | None = None

    def describe(self) -> str:
        return preflight(self.settings)

    # -- before the session end ----------------------------------------------------------
    def prepare(self) -> None:
        """Look the placement and the cycle up (never create them) while the tests run."""
        self._ahead.prepare()

    def stream(self, *, may_send: bool) -> ZephyrStream:
        """Each case's place as its test ends; with ``may_send``, the repository too
        (``stream.py``)."""
        self._stream = ZephyrStream(self._ahead, self.root, may_send=may_send)
        return self._stream

    # -- dry run -------------------------------------------------------------------------
    def plan(self, run: RunReport) -> Delivery:
        """Only GET requests: what would be created, set and linked."""
        delivery = Delivery(target=self.name)
        with self._client() as http:
            api = ZephyrApi(http)
            placement = resolve_placement(api, self.settings, self.status_map)
            delivery.plan = self._plan_repository(api, run, placement)
            cycle = str(self.settings.option("cycle"))
            if find_cycle(api, placement.release_id, cycle) is None:
                delivery.plan.append(f"would create cycle {cycle!r}")
            delivery.plan.append(
                f"would create phase {cut_name(run.name)!r} in cycle {cycle!r} (release "
                f"{placement.release_name!r}) with {_distinct_cases(run)} execution(s): "
                + _status_counts(run, placement)
            )
            pairs = link_requests(run, self.settings)
            delivery.plan.append(f"would link {len(pairs)} defect(s) to failing executions")
            delivery.requests = http.requests_sent
        return delivery

    def _plan_repository(self, api: ZephyrApi, run: RunReport, placement: Placement) -> list[str]:
        """What the repository lacks: the folders and test cases that would be created."""
        folders = Folders(api, placement.release_id, None, create=False)
        root = list(self.root)
        places = {case.case_id: place_of(case, root, {}) for case in run.cases}
        wanted: dict[str, tuple[int, str]] = {}
        new_cases = 0
        for case_id, (path, name) in places.items():
            folder = folders.resolve(path)
            if folder is None:
                new_cases += 1
            else:
                wanted[case_id] = (folder, name)
        cases = Cases(api, placement.project_id, placement.release_id, None, quiet)
        new_cases += len(wanted) - len(cases.existing(wanted))
        plan = [f"would create repository folder {p}" for p in folders.created]
        plan.append(f"would create {new_cases} test case(s); {len(places) - new_cases} exist")
        return plan

    # -- delivery ------------------------------------------------------------------------
    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        stream, self._stream = self._stream, None  # a stream serves one delivery
        found = stream.finish() if stream is not None else None
        seen: Seen = stream.places if stream is not None else {}
        return self._delivering(
            lambda http, out: self._deliver(http, run, journal, out, seen, found)
        )

    def _deliver(
        self,
        http: HttpClient,
        run: RunReport,
        journal: Journal,
        out: Delivery,
        seen: Seen,
        found: Found | None,
    ) -> None:
        api = ZephyrApi(http)
        steps = ZephyrSteps(
            api,
            run,
            journal,
            ahead=self._ahead,
            status_map=self.status_map,
            root=self.root,
            progress=self._progress,
        )
        # Links and attachments come after the statuses: if those were done by an earlier
        # attempt, that attempt may have made some (look before making them again).
        resuming = journal.done(STATUSES) is not None
        placement = steps.placement()
        if found is not None and (
            found.placement is None or found.placement.release_id != placement.release_id
        ):
            found = None  # found for another placement: no use here
        refs = steps.test_cases(placement, seen, found)
        cycle, phases = steps.cycle(placement, found)
        phase = steps.phase(placement, cycle, phases)
        mapped = steps.executions(placement, phase, refs)
        requests = link_requests(run, self.settings)
        read = steps.statuses(placement, phase, refs, mapped, requests)
        steps.report(out, placement, (cycle, phase), mapped, read)

        executions_of = steps.executions_of(mapped, requests)
        if requests:
            trouble = trouble_channel(self._progress)
            linker = DefectLinker(api, executions_of, trouble, look_first=resuming)
            out.links = self._link_all(requests, linker.link, journal)
        if any(case.attachments for case in run.cases):
            out.attachments = steps.attachments(placement, phase, executions_of)


def _distinct_cases(run: RunReport) -> int:
    return len({case.case_id for case in run.cases})


def _status_counts(run: RunReport, placement: Placement) -> str:
    counts: dict[str, int] = {}
    for case in run.cases:
        status = placement.statuses[case.outcome.value]
        word = "left unexecuted" if status is None else placement.status_names.get(status, status)
        counts[word] = counts.get(word, 0) + 1
    return ", ".join(f"{word} {count}" for word, count in counts.items())
