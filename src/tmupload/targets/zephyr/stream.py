"""What the Zephyr target does while the tests run (``targets.base.CaseStream``).

As each test ends, :meth:`ZephyrStream.add` works out where its test case lives (the folder
path and the name, ``payload.case_place``), so that the session end does not do it for every
case at once. When the stream may talk to the server (an xdist controller: no test runs in
that process), a thread of its own also does, while the tests run, the part of the upload
that is safe if the session then dies:

* lookups: the tester, project, release and status list (the placement, shared with
  ``prepare``), the cycle, each repository folder and the test cases in it;
* creations that a later run finds by name instead of making again (docs/servers/zephyr.md §6):
  repository folders, test cases (in bulk, ≤500 a call, as soon as 500 wait or the oldest has waited
  ``HOLD`` seconds) and the cycle. Nothing is created before the placement — and with it the
  status map — passed its check.

The phase and the statuses wait for the session end: a phase made now would outlive a session
that dies, and its name and dates come from the finished run.

What the thread found is a hint (:class:`Found`): ``deliver`` takes each case's place from it
only for the very case the stream saw (or one at the same place), takes folders and test
cases from it as a lookup would have found them, and does whatever is missing itself — all of
it without a stream (``tmupload import``, ``resend``), or after the thread failed. A failure of
the thread never reaches the tests: it is logged, recorded in ``Found.problem`` and left for
``deliver`` to meet again and report.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from tmupload.http.poll import Deadline
from tmupload.models import CaseResult
from tmupload.targets.base import quiet
from tmupload.targets.zephyr.ahead import Lookahead
from tmupload.targets.zephyr.api import BATCH, ZephyrApi
from tmupload.targets.zephyr.cycle import ensure_cycle
from tmupload.targets.zephyr.payload import case_place
from tmupload.targets.zephyr.placement import Placement
from tmupload.targets.zephyr.repository import Cases, Folders, Path, TctRef

__all__ = ["HOLD", "Found", "Seen", "ZephyrStream", "place_of", "same_place"]

log = logging.getLogger("tmupload.targets.zephyr")

#: Seconds a test case waits to be created with others (a bulk call takes 500).
HOLD = 1.0
#: Seconds the thread sleeps when no case arrives (it wakes at once for 100 new ones).
_PAUSE = 0.25
_WAKE_AT = 100
#: The time budget of each round of the thread's requests.
_ROUND_BUDGET = 120.0


@dataclass
class Found:
    """What was found or made before ``deliver``: hints, checked against its run."""

    placement: Placement | None = None
    #: the cycle, found by name or made (its phases are read again at the session end)
    cycle: dict[str, Any] | None = None
    folders: dict[Path, int] = field(default_factory=dict)
    #: folders made by the stream (empty when made)
    fresh: set[int] = field(default_factory=set)
    #: folder -> every test case it holds by name, for folders listed or made empty
    known: dict[int, dict[str, TctRef]] = field(default_factory=dict)
    problem: str | None = None


def same_place(seen: CaseResult, case: CaseResult) -> bool:
    """Whether ``case`` sits where ``seen`` did (``case_place`` reads only these)."""
    return seen is case or (
        seen.case_id == case.case_id
        and seen.suite == case.suite
        and seen.name == case.name
        and seen.classname == case.classname
    )


#: case id -> (the case as the stream saw it, its folder path, its test case name)
Seen = Mapping[str, tuple[CaseResult, Path, str]]


def place_of(case: CaseResult, root: list[str], seen: Seen) -> tuple[Path, str]:
    """(folder path, test case name) of ``case``: the stream's when it saw the case at the
    same place, else worked out now."""
    hint = seen.get(case.case_id)
    if hint is not None and same_place(hint[0], case):
        return hint[1], hint[2]
    return case_place(case, root)


class ZephyrStream:
    """``CaseStream`` of :class:`~tmupload.targets.zephyr.target.ZephyrTarget`: places
    each case under ``root`` (the repository folder of the settings); with ``may_send``, finds
    and makes the repository on a thread of its own, from the placement ``ahead`` resolves."""

    def __init__(self, ahead: Lookahead, root: tuple[str, ...], *, may_send: bool) -> None:
        self._ahead = ahead
        self._settings = ahead.settings
        self._root = list(root)
        #: case id -> (the case as it was added, its folder path, its test case name)
        self.places: dict[str, tuple[CaseResult, Path, str]] = {}
        self.found = Found()
        self._queue: list[tuple[Path, str]] = []
        self._taken = 0
        self._ended = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        if may_send:
            self._thread = threading.Thread(
                target=self._work, name="tmupload-zephyr-stream", daemon=True
            )
            self._thread.start()

    # -- the main thread ------------------------------------------------------------------
    def add(self, case: CaseResult) -> None:
        try:
            path, name = case_place(case, self._root)
        except Exception:  # never in the way of the tests: deliver places it
            return
        self.places[case.case_id] = (case, path, name)
        if self._thread is not None:
            self._queue.append((path, name))
            if len(self._queue) - self._taken >= _WAKE_AT:
                self._wake.set()

    def end(self) -> None:
        self._ended = True
        self._wake.set()

    def finish(self) -> Found:
        """For ``deliver``: the tests are over; wait for the thread to finish its round (its
        requests are bounded by their time budget) and return what it found."""
        self.end()
        if self._thread is not None:
            self._thread.join()
        return self.found

    # -- the thread -----------------------------------------------------------------------
    def _work(self) -> None:
        found = self.found
        folders: Folders | None = None
        cases: Cases | None = None
        try:
            with self._ahead.connection.background_client() as http:
                api = ZephyrApi(http)
                placement = self._ahead.placement(api)
                if placement is None:
                    found.problem = "the placement could not be resolved"
                    return
                found.placement = placement
                http.deadline = Deadline(min(self._settings.deadline, _ROUND_BUDGET))
                cycle_name = str(self._settings.option("cycle"))
                now = datetime.now(timezone.utc)
                found.cycle = ensure_cycle(
                    api, placement.release_id, cycle_name, now, None, self._settings.build
                )
                folders = Folders(api, placement.release_id, None, create=True)
                cases = Cases(api, placement.project_id, placement.release_id, None, quiet)
                self._rounds(http, folders, cases)
        except Exception as exc:  # the tests never see it; deliver meets it again
            found.problem = f"{type(exc).__name__}: {exc}"
            log.debug("the Zephyr stream stopped (deliver does the rest): %s", exc)
        finally:
            if folders is not None:
                found.folders = {p: i for p, i in folders.ids.items() if i is not None}
            # Stopped midway, a creation may have landed unseen (its answer lost, the read
            # after it failed): what the folders hold is no hint then; deliver lists them.
            if found.problem is None:
                if folders is not None:
                    found.fresh = set(folders.fresh)
                if cases is not None:
                    found.known = cases.known

    def _rounds(self, http: Any, folders: Folders, cases: Cases) -> None:
        seen: set[tuple[Path, str]] = set()
        pending: list[tuple[int, str]] = []
        waiting_since = 0.0
        while True:
            self._wake.wait(_PAUSE)
            self._wake.clear()
            ended = self._ended  # read first: nothing is added after the end
            new = self._queue[self._taken :]
            self._taken += len(new)
            http.deadline = Deadline(min(self._settings.deadline, _ROUND_BUDGET))
            for path, name in new:
                if (path, name) in seen:
                    continue
                seen.add((path, name))
                folder = folders.resolve(path)
                assert folder is not None  # create=True
                if folder not in cases.known:
                    cases.list_folders([folder], empty=[folder] if folder in folders.fresh else [])
                if name not in cases.known[folder]:
                    if not pending:
                        waiting_since = time.monotonic()
                    pending.append((folder, name))
            if pending and (ended or time.monotonic() - waiting_since >= HOLD):
                cases.create(pending)
                pending = []
            elif len(pending) >= BATCH:
                full = len(pending) - len(pending) % BATCH
                cases.create(pending[:full])
                pending = pending[full:]
                waiting_since = time.monotonic()
            if ended and self._taken == len(self._queue) and not pending:
                return
