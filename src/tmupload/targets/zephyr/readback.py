"""What the server holds after the upload, in the neutral words of ``Delivery.totals``.

Statuses are read back from the executions (``GET /execution?cyclephaseid=``,
docs/servers/zephyr.md §5.5) and worded through the server's own status list
(docs/servers/zephyr.md §5.6: ids and names are per instance).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from tmupload.models import Outcome, RunReport
from tmupload.targets.statusmap import BY_OUTCOME, neutral_total
from tmupload.targets.zephyr.placement import Placement

__all__ = ["run_status", "totals"]

#: The names of a status nobody set (docs/servers/zephyr.md §5.6 [DOC] names: PASS, FAIL, WIP,
#: Blocked).
_NOT_RUN = frozenset({"not executed", "unexecuted", "not run", "wip", "in progress", ""})


def totals(
    run: RunReport, placement: Placement, mapped: dict[str, Any], read: dict[str, str]
) -> dict[str, int]:
    """Per neutral key, the cases whose read-back status says so. A case left unexecuted on
    purpose (the status map's ``unexecuted``) that still has its first status is skipped."""
    counts: Counter[str] = Counter()
    unexecuted = {o for o in Outcome if placement.statuses[o.value] is None}
    words: dict[str, str | None] = {}  # status id -> its neutral key (once per status)
    for case in run.cases:
        status = read.get(case.case_id)
        if status is None:
            continue
        if case.outcome in unexecuted and status == str(mapped[case.case_id][1]):
            counts["skipped"] += 1
            continue
        word = words.get(status, "")
        if word == "":
            word = words[status] = neutral_total(placement.status_names.get(status, ""), _NOT_RUN)
        counts[word or BY_OUTCOME[case.outcome]] += 1
    return dict(counts)


def run_status(read: dict[str, str], mapped: dict[str, Any]) -> str:
    """The phase has no state of its own: say how many of its executions were executed."""
    executed = sum(1 for case, status in read.items() if status != str(mapped[case][1]))
    return f"{executed} of {len(mapped)} executed"
