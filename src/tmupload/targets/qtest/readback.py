"""Reading back what landed under the parent cycle (docs/servers/qtest.md §7.4, §8).

The batch endpoint names neither the runs nor the logs it made (docs/servers/qtest.md §5, §7.4: the
keys of a job's ``content`` are [UNCONFIRMED]), so everything is found the way the reference says:
the runs below the cycle (``expand=descendants``) by Automation Content, and a run's latest log.

A log is *ours* when its execution dates are the ones this upload sent (session start, plus
the case's duration, to the millisecond): that fingerprints one upload of one run report.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tmupload.errors import TaskError
from tmupload.http.poll import Deadline, poll
from tmupload.targets.batching import chunks
from tmupload.targets.qtest.api import QTestApi, automation_content, parse_time, status_name

__all__ = ["CaseContents", "RunIndex", "find_landed", "is_ours"]

log = logging.getLogger("tmupload.qtest")

#: Dates the server rounds (to the second, say) still match [inference: tolerance].
_DATE_TOLERANCE = timedelta(seconds=1)
#: A run whose last change is older than the attempt by more than this holds no log of it
#: (room for the two clocks to differ) [inference].
_CLOCK_SKEW = timedelta(minutes=10)


#: The names a project gives a case nobody ran (docs/servers/qtest.md §6: names are per project; the
#: usual ones are Passed, Failed, Incomplete, Blocked, Unexecuted).
NOT_RUN = frozenset({"unexecuted", "not run", "not executed", "untested", "incomplete", ""})


def is_ours(found: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether a log read back carries the execution dates this upload sent."""
    for key in ("exe_start_date", "exe_end_date"):
        mine, theirs = parse_time(sent.get(key)), parse_time(found.get(key))
        if mine is None or theirs is None or abs(mine - theirs) > _DATE_TOLERANCE:
            return False
    return True


#: Test cases asked for in one search (``'id' = 1 or 'id' = 2 …``): a short query, and
#: 2,000 runs cost 10 searches.
IDS_PER_SEARCH = 200


@dataclass
class RunIndex:
    """The runs below the parent cycle, by Automation Content (newest run first)."""

    runs: dict[str, list[dict[str, Any]]]

    @classmethod
    def read(
        cls, api: QTestApi, project_id: str, cycle_id: str, cases: CaseContents | None = None
    ) -> RunIndex:
        """Every run below the cycle, by its Automation Content. Where the listing does not
        show it (docs/servers/qtest.md §8 does not promise it does), its test case's is read — a
        search per ``IDS_PER_SEARCH`` test cases, never a request per run. ``cases``: what earlier
        reads of the same upload learnt of the test cases."""
        cases = cases if cases is not None else CaseContents()
        runs: dict[str, list[dict[str, Any]]] = {}
        unnamed: list[tuple[str, dict[str, Any]]] = []
        for item in api.runs_under(project_id, cycle_id):
            if "id" not in item:
                continue
            content = automation_content(item)
            if content is not None:
                runs.setdefault(content, []).append(item)
                continue
            case = item.get("test_case")
            if isinstance(case, dict) and case.get("id") is not None:
                unnamed.append((str(case["id"]), item))
        cases.learn(api, project_id, {case_id for case_id, _ in unnamed})
        for case_id, item in unnamed:
            content = cases.known.get(case_id)
            if content is not None:
                runs.setdefault(content, []).append(item)
        for same in runs.values():
            same.sort(key=_newest, reverse=True)
        return cls(runs)

    def run_for(self, case_id: str) -> dict[str, Any] | None:
        found = self.runs.get(case_id)
        return found[0] if found else None


@dataclass
class CaseContents:
    """Test case id -> its Automation Content (docs/servers/qtest.md §4.1: the fingerprint is the
    test case's), read in searches; one GET a test case only where the server refuses the
    search (then said once in the log)."""

    known: dict[str, str | None] = field(default_factory=dict)
    searchable: bool = True

    def learn(self, api: QTestApi, project_id: str, case_ids: set[str]) -> None:
        todo = sorted(case_ids - set(self.known))
        if self.searchable:
            for batch in chunks(todo, IDS_PER_SEARCH):
                query = " or ".join(f"'id' = {case_id}" for case_id in batch)
                found = api.search(project_id, "test-cases", query)
                if found is None:
                    log.warning(
                        "qTest refused a search of test cases by id; reading the %d test "
                        "cases one by one",
                        len(todo),
                    )
                    self.searchable = False
                    break
                for item in found:
                    if item.get("id") is not None:
                        self.known[str(item["id"])] = automation_content(item)
                for case_id in batch:
                    self.known.setdefault(case_id, None)
        if not self.searchable:
            for case_id in todo:
                if case_id not in self.known:
                    self.known[case_id] = automation_content(api.test_case(project_id, case_id))


def _newest(run: dict[str, Any]) -> tuple[float, int]:
    when = parse_time(run.get("last_modified_date"))
    run_id = str(run.get("id", ""))
    return (when.timestamp() if when else 0.0, int(run_id) if run_id.isdigit() else 0)


def run_status(run: dict[str, Any]) -> str | None:
    return status_name(run)


def find_our_log(
    api: QTestApi, project_id: str, run: dict[str, Any], sent: dict[str, Any]
) -> dict[str, Any] | None:
    """This upload's log of ``run``: its latest log if it is ours, else among its logs."""
    run_id = str(run["id"])
    latest = api.last_log(project_id, run_id)
    if latest is not None and is_ours(latest, sent):
        return latest
    for item in api.logs(project_id, run_id):
        if is_ours(item, sent):
            return item
    return None


def find_landed(
    api: QTestApi,
    project_id: str,
    cycle_id: str,
    sent: dict[int, dict[str, Any]],
    attempt: datetime,
    *,
    wait: float,
) -> set[int]:
    """Which of the logs ``sent`` (by position) landed after an answer was lost.

    Looks for runs under the cycle with that Automation Content, changed no earlier than the
    attempt, whose latest log is ours; waits up to ``wait`` seconds for a queued job to land
    (docs/servers/qtest.md §5: jobs queue), then returns what it found (possibly part, possibly
    nothing).
    """
    found: set[int] = set()
    cases = CaseContents()
    window = Deadline(max(0.0, min(wait, api.http.deadline.remaining())))

    def check() -> set[int] | None:
        index = RunIndex.read(api, project_id, cycle_id, cases)
        for position, log_body in sent.items():
            if position in found:
                continue
            for run in index.runs.get(str(log_body["automation_content"]), []):
                changed = parse_time(run.get("last_modified_date"))
                if changed is not None and changed < attempt - _CLOCK_SKEW:
                    continue
                latest = api.last_log(project_id, str(run["id"]))
                if latest is not None and is_ours(latest, log_body):
                    found.add(position)
                    break
        return found if len(found) == len(sent) else None

    try:
        return poll(check, deadline=window, what="the lost submission", first=0.1, longest=1.0)
    except TaskError:
        log.debug("%d of %d logs of a lost submission found", len(found), len(sent))
        return found


def ranges(positions: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted positions as half-open ranges: ``{0, 1, 2, 5}`` -> ``[(0, 3), (5, 6)]``."""
    result: list[tuple[int, int]] = []
    for position in sorted(set(positions)):
        if result and result[-1][1] == position:
            result[-1] = (result[-1][0], position + 1)
        else:
            result.append((position, position + 1))
    return result
