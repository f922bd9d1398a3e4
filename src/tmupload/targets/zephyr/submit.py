"""Setting statuses, notes and times (docs/servers/zephyr.md §5.6; §7 step 4).

* ``PUT /execution/bulk/execute`` (way 3, the plugin's call [CLIENT]) in batches of ≤500,
  each batch journaled as done once it landed. Status updates overwrite (docs/servers/zephyr.md §6),
  so a batch whose answer was lost is simply sent again, and batches go ``concurrency`` at a time.
* That call is not in the blueprint: when a server answers 404/405/501 for it, the rest goes
  through the documented calls — one ``PUT /execution/bulk?status=`` per status for the
  executions without notes (way 2), and the single-execution call (way 1) for those with.
* Cases left unexecuted (skipped, by default) keep the status they have and get their reason
  in the notes, in batches of their own: a server that refuses notes without a new status
  loses the reasons (said once), never the other results.
* What the answers show is kept (``read``: execution id -> status): the emulator, like the
  single call's documented answer (docs/servers/zephyr.md §5.6 way 1), answers with the executions
  as they now are, which makes reading them all back again unnecessary. An answer of another shape
  shows nothing, and the caller lists the executions instead.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from tmupload.errors import ServerRejected
from tmupload.linking import LinkRequest
from tmupload.models import Outcome, RunReport
from tmupload.targets.base import Journal, Progress
from tmupload.targets.batching import first_alone_then_pool, refused_as_too_big, send_halving
from tmupload.targets.toolkit.steps import STATUSES
from tmupload.targets.zephyr.api import BATCH, ZephyrApi, as_id, decode
from tmupload.targets.zephyr.executions import status_id
from tmupload.targets.zephyr.payload import execution_item, notes

__all__ = ["Planned", "StatusWriter", "answered_statuses", "plan_statuses", "statuses_shown"]

#: The journal's items of this step: one a batch that landed (``x:<start>``, ``u:<start>``).
KIND = STATUSES
#: Outcomes whose notes say nothing unless the case has a message, details, reruns or keys.
_PLAIN = frozenset({Outcome.PASSED, Outcome.XPASSED})


@dataclass(slots=True)
class Planned:
    """One execution's update: ``unexecuted`` ones resend the status they already have."""

    rts: int
    status: str
    notes: str
    duration: float
    unexecuted: bool


def notes_keys(run: RunReport, requests: list[LinkRequest]) -> dict[str, list[str]]:
    """case id -> the defect keys its notes carry (the link policy's, and a failure's own
    tickets even under --tm-no-link: notes are not links)."""
    keys: dict[str, list[str]] = {}
    for request in requests:
        keys.setdefault(request.case_id, []).append(request.key)
    for case in run.cases:
        if case.outcome.is_failure:
            own = keys.setdefault(case.case_id, [])
            own.extend(t.key for t in case.tickets if t.key not in own)
    return keys


def plan_statuses(
    run: RunReport,
    statuses: Mapping[str, str | None],
    mapped: Mapping[str, Any],
    requests: list[LinkRequest],
) -> tuple[list[Planned], dict[str, str]]:
    """Each case's update (``statuses``: outcome -> status id, None to leave it as it is),
    and case id -> status of those left as they are and not sent at all (no notes)."""
    keys = notes_keys(run, requests)
    planned: list[Planned] = []
    unsent: dict[str, str] = {}
    by_outcome = {outcome: statuses[outcome.value] for outcome in Outcome}
    for case in run.cases:
        rts, current = mapped[case.case_id]
        status = by_outcome[case.outcome]
        own = keys.get(case.case_id)
        if own or case.attempts or case.message or case.details or case.outcome not in _PLAIN:
            note = notes(case, own or [])
        else:
            note = ""  # what notes() says of a plain pass: nothing (saves 10,000 calls)
        if status is None and not note:
            unsent[case.case_id] = str(current)  # left as it is: not sent
        planned.append(
            Planned(
                int(rts),
                status if status is not None else str(current),
                note,
                case.duration,
                status is None,
            )
        )
    return planned, unsent


def statuses_shown(
    mapped: Mapping[str, Any], answered: Mapping[int, str], unsent: Mapping[str, str]
) -> dict[str, str] | None:
    """case id -> status as the answers showed them (or as left, unsent); None when they
    did not show every execution sent (then they are read back)."""
    read: dict[str, str] = {}
    for case_id, (rts, _) in mapped.items():
        status = answered.get(int(rts))
        if status is None:
            status = unsent.get(case_id)
            if status is None:
                return None
        read[case_id] = status
    return read


def answered_statuses(response: httpx.Response) -> dict[int, str]:
    """execution id -> status, for every execution an answer shows (an array of RTS, a
    ``{"results": …}`` envelope or one RTS); nothing for any other answer."""
    try:
        body = decode(response) if response.content else None
    except ValueError:
        return {}
    if isinstance(body, dict):
        body = body["results"] if isinstance(body.get("results"), list) else [body]
    if not isinstance(body, list):
        return {}
    found: dict[int, str] = {}
    for item in body:
        if isinstance(item, dict) and "status" in item:
            execution = item.get("id")
            if type(execution) is not int:
                execution = as_id(execution)
            if execution is not None:
                status = item["status"]
                found[execution] = status.strip() if type(status) is str else status_id(status)
    return found


class StatusWriter:
    def __init__(
        self,
        api: ZephyrApi,
        tester_id: int,
        executed_on: int,
        journal: Journal,
        progress: Progress,
        trouble: Progress,
        concurrency: int = 1,
    ) -> None:
        self.api = api
        self.tester_id = tester_id
        self.executed_on = executed_on
        self.journal = journal
        self.progress = progress
        self.trouble = trouble
        self.concurrency = concurrency
        self.fallback = False
        self.skipped_notes_refused = False
        #: execution id -> status, as the answers showed them
        self.read: dict[int, str] = {}
        self._lock = threading.Lock()

    def run(self, planned: list[Planned]) -> None:
        done = self.journal.items(KIND)
        executed = [p for p in planned if not p.unexecuted]
        unexecuted = [p for p in planned if p.unexecuted and p.notes]
        batches = [
            (f"{kind}:{start}", items[start : start + BATCH])
            for kind, items in (("x", executed), ("u", unexecuted))
            for start in range(0, len(items), BATCH)
        ]
        todo = [(key, batch) for key, batch in batches if key not in done]
        if not todo:
            return
        self.progress(f"setting {sum(len(batch) for _, batch in todo):,} execution statuses")
        # The first batch alone: it finds out whether the server has the bulk call.
        first_alone_then_pool(self._batch, todo, self.concurrency)

    def _batch(self, job: tuple[str, list[Planned]]) -> None:
        key, batch = job
        send = self._unexecuted if key.startswith("u:") else self._send
        send_halving(send, batch, self._halved)
        self.journal.item_done(KIND, key, {"count": len(batch)})

    def _halved(self, count: int) -> None:
        self.progress(f"Zephyr refused {count} statuses in one call as too many; sending halves")

    def _seen(self, response: httpx.Response) -> None:
        found = answered_statuses(response)
        with self._lock:
            self.read.update(found)

    def _items(self, batch: list[Planned]) -> list[dict[str, object]]:
        return [
            execution_item(p.rts, self.tester_id, p.status, p.notes, p.duration, self.executed_on)
            for p in batch
        ]

    def _fall_back(self, response: httpx.Response) -> None:
        with self._lock:
            if self.fallback:
                return
            self.fallback = True
        self.trouble(
            f"PUT execution/bulk/execute answered HTTP {response.status_code}: this server "
            "lacks it; setting statuses per status and notes per execution instead"
        )

    def _send(self, batch: list[Planned]) -> None:
        if not self.fallback:
            response = self.api.bulk_execute(self._items(batch))
            if response.is_success:
                self._seen(response)
                return
            self._fall_back(response)
        by_status: dict[str, list[int]] = defaultdict(list)
        for p in batch:
            if not p.notes:
                by_status[p.status].append(p.rts)
        for status, ids in by_status.items():
            self._seen(self.api.bulk_status(status, self.tester_id, ids))
        for p in batch:
            if p.notes:
                ms = round(p.duration * 1000)
                self._seen(self.api.execute_one(p.rts, p.status, self.tester_id, p.notes, ms))

    def _unexecuted(self, batch: list[Planned]) -> None:
        try:
            if self.fallback:
                for p in batch:
                    answer = self.api.execute_one(p.rts, p.status, self.tester_id, p.notes, None)
                    self._seen(answer)
            else:
                response = self.api.bulk_execute(self._items(batch))
                if response.is_success:
                    self._seen(response)
                else:
                    self._fall_back(response)
                    self._unexecuted(batch)
        except ServerRejected as exc:
            if exc.status != 400 or refused_as_too_big(exc):
                raise
            with self._lock:
                said, self.skipped_notes_refused = self.skipped_notes_refused, True
            if not said:
                self.trouble(
                    "Zephyr refused notes on executions left unexecuted (the skipped tests): "
                    f"their reasons are not recorded ({exc.server_message or exc}); map "
                    "skipped to a status with --tm-status-map to record them"
                )
