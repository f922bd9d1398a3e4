"""Upload a JUnit document to an assignment, find the run it created, map its nodes back.

The import task does not name the run it creates (docs/servers/et.md §5.1): the run is found among
the assignment's runs, excluding those that existed before the upload, and — when two uploads to
the same assignment raced — told apart by the start time we sent and by its node names.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone

from tmupload.errors import ServerProtocolError, TaskError
from tmupload.http.poll import Deadline, poll
from tmupload.targets.et.api import EtApi
from tmupload.targets.et.models import EtRun
from tmupload.targets.et.payload import EtPayload

__all__ = ["find_new_run", "known_run_ids", "map_nodes", "parse_time"]

log = logging.getLogger("tmupload.et")

_SCAN = 50  # how many newest runs to look at; far more than uploads that can race


def known_run_ids(api: EtApi, assignment_id: str) -> list[str]:
    return [run.Id for run in api.list_runs(assignment_id, top=_SCAN)]


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _node_names(api: EtApi, run_id: str) -> set[tuple[str, str]]:
    return {
        (ancestors[-1] if ancestors else "", node.Name)
        for ancestors, node in api.walk_nodes(run_id)
        if not node.HasChildren and not node.Children
    }


def find_new_run(
    api: EtApi,
    assignment_id: str,
    before: set[str],
    started_at: datetime,
    payload: EtPayload,
    *,
    wait: float = 10.0,
    verify: bool = False,
) -> EtRun | None:
    """The run our upload created, or None if none appeared within ``wait`` seconds.

    ``verify`` is for a lost answer (or a resend): then any run that appeared since may be
    someone else's, so only a run whose nodes are exactly ours counts. Otherwise our import
    task has finished, our run exists, and a single new run is ours.
    """
    window = Deadline(max(0.0, min(wait, api.http.deadline.remaining())))

    def check() -> EtRun | None:
        candidates = [
            run for run in api.list_runs(assignment_id, top=_SCAN) if run.Id not in before
        ]
        if len(candidates) == 1 and not verify:
            return candidates[0]
        return _pick(api, candidates, started_at, payload) if candidates else None

    try:
        return poll(check, deadline=window, what="the new run", first=0.1, longest=1.0)
    except TaskError:
        return None  # none appeared within ``wait``


def _pick(
    api: EtApi, candidates: list[EtRun], started_at: datetime, payload: EtPayload
) -> EtRun | None:
    """The oldest candidate whose nodes are exactly ours, looking first at those that started
    when ours did (the server may take the start from the file's timestamp [inference])."""

    def timed(run: EtRun) -> bool:
        when = parse_time(run.StartedAt)
        return when is not None and abs((when - started_at).total_seconds()) < 1.0

    oldest_first = list(reversed(candidates))  # listed newest first
    ordered = [run for run in oldest_first if timed(run)] + [
        run for run in oldest_first if not timed(run)
    ]
    expected = set(payload.case_ids)
    for run in ordered:
        if _node_names(api, run.Id) == expected:
            return run
    log.debug("none of %d new runs holds exactly our results", len(candidates))
    return None


#: Result nodes read in one answer at most; a larger run is read one root node at a time.
EXPAND_UP_TO = 50_000


def map_nodes(
    api: EtApi, run_id: str, payload: EtPayload
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Map result nodes to case ids: (case -> node id, case -> node status, unmapped cases).

    Keyed by (parent node name, node name) as we wrote them (suite, testcase); a node whose
    parent is not the suite (an importer that nests differently) falls back to its nearest
    ancestor that is one of our suites, then to a leaf name that is unique in the run.
    """
    suites = {suite for suite, _ in payload.case_ids}
    by_name: dict[str, list[str]] = {}
    for (_suite, name), known_id in payload.case_ids.items():
        by_name.setdefault(name, []).append(known_id)
    node_ids: dict[str, str] = {}
    statuses: dict[str, str] = {}
    # A very large run is read suite by suite (see EtApi.walk_nodes): bounded memory.
    expand = len(payload.case_ids) <= EXPAND_UP_TO
    for ancestors, node in api.walk_nodes(run_id, expand=expand):
        if node.HasChildren or node.Children:
            continue
        case_id: str | None = payload.case_ids.get((ancestors[-1] if ancestors else "", node.Name))
        if case_id is None:
            suite = next((part for part in reversed(ancestors) if part in suites), None)
            if suite is not None:
                case_id = payload.case_ids.get((suite, node.Name))
        if case_id is None and len(by_name.get(node.Name, ())) == 1:
            case_id = by_name[node.Name][0]
        if case_id is None:
            log.debug("result node %r maps to no case", node.Name)
            continue
        if case_id in node_ids:
            raise ServerProtocolError(
                f"the server shows two result nodes for {case_id!r}; cannot map them one-to-one"
            )
        node_ids[case_id] = node.Id
        # A few status words for a million nodes: one string each, not one per node.
        statuses[case_id] = sys.intern(node.Status or "")
    unmapped = [case_id for case_id in payload.case_ids.values() if case_id not in node_ids]
    return node_ids, statuses, unmapped
