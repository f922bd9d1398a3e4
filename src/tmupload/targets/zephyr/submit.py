"""Setting statuses, notes and times (ref §4.6; DESIGN §3c step 4).

* ``PUT /execution/bulk/execute`` (way 3, the plugin's call [CLIENT]) in batches of ≤500,
  each batch journaled as done once it landed. Status updates overwrite (ref §5), so a
  batch whose answer was lost is simply sent again.
* That call is not in the blueprint: when a server answers 404/405/501 for it, the rest goes
  through the documented calls — one ``PUT /execution/bulk?status=`` per status for the
  executions without notes (way 2), and the single-execution call (way 1) for those with.
* Cases left unexecuted (skipped, by default) keep the status they have and get their reason
  in the notes, in batches of their own: a server that refuses notes without a new status
  loses the reasons (said once), never the other results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tmupload.errors import ServerRejected
from tmupload.targets.base import Journal, Progress
from tmupload.targets.zephyr.api import BATCH, ZephyrApi
from tmupload.targets.zephyr.payload import execution_item

__all__ = ["Planned", "StatusWriter"]

KIND = "statuses"


@dataclass(frozen=True)
class Planned:
    """One execution's update: ``unexecuted`` ones resend the status they already have."""

    rts: int
    status: str
    notes: str
    duration: float
    unexecuted: bool


class StatusWriter:
    def __init__(
        self,
        api: ZephyrApi,
        tester_id: int,
        executed_on: int,
        journal: Journal,
        progress: Progress,
        trouble: Progress,
    ) -> None:
        self.api = api
        self.tester_id = tester_id
        self.executed_on = executed_on
        self.journal = journal
        self.progress = progress
        self.trouble = trouble
        self.fallback = False
        self.skipped_notes_refused = False

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
        if todo:
            count = sum(len(batch) for _, batch in todo)
            self.progress(f"setting {count:,} execution statuses")
        for key, batch in todo:
            if key.startswith("u:"):
                self._unexecuted(batch)
            else:
                self._send(batch)
            self.journal.item_done(KIND, key, {"count": len(batch)})

    def _items(self, batch: list[Planned]) -> list[dict[str, object]]:
        return [
            execution_item(p.rts, self.tester_id, p.status, p.notes, p.duration, self.executed_on)
            for p in batch
        ]

    def _send(self, batch: list[Planned]) -> None:
        if not self.fallback:
            response = self.api.bulk_execute(self._items(batch))
            if response.is_success:
                return
            self.fallback = True
            self.trouble(
                f"PUT execution/bulk/execute answered HTTP {response.status_code}: this server "
                "lacks it; setting statuses per status and notes per execution instead"
            )
        by_status: dict[str, list[int]] = defaultdict(list)
        for p in batch:
            if not p.notes:
                by_status[p.status].append(p.rts)
        for status, ids in by_status.items():
            self.api.bulk_status(status, self.tester_id, ids)
        for p in batch:
            if p.notes:
                ms = round(p.duration * 1000)
                self.api.execute_one(p.rts, p.status, self.tester_id, p.notes, ms)

    def _unexecuted(self, batch: list[Planned]) -> None:
        try:
            if self.fallback:
                for p in batch:
                    self.api.execute_one(p.rts, p.status, self.tester_id, p.notes, None)
            else:
                response = self.api.bulk_execute(self._items(batch))
                if not response.is_success:
                    self.fallback = True
                    self._unexecuted(batch)
        except ServerRejected as exc:
            if exc.status != 400:
                raise
            if not self.skipped_notes_refused:
                self.skipped_notes_refused = True
                self.trouble(
                    "Zephyr refused notes on executions left unexecuted (the skipped tests): "
                    f"their reasons are not recorded ({exc.server_message or exc}); map "
                    "skipped to a status with --tm-status-map to record them"
                )
