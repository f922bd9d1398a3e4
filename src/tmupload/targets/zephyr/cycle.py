"""The cycle and this upload's phase (docs/servers/zephyr.md §5.4; §7 step 4).

* The cycle is found by exact name (the oldest of same-named ones) or created; the release's
  cycle list carries each cycle's phases, so a cycle found there needs no second read.
* Each upload gets its own free-form phase named after the run. Phase names may repeat, so
  the intent records which same-named phases existed before the POST: on a lost answer or a
  resume, a same-named phase that was not there before is ours, never created twice.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from tmupload.errors import ServerError, ServerProtocolError
from tmupload.models import RunReport
from tmupload.targets.base import Journal
from tmupload.targets.toolkit.steps import CYCLE, PHASE
from tmupload.targets.zephyr.api import ZephyrApi, answer_lost, as_id
from tmupload.targets.zephyr.payload import cut_name, epoch_ms, us_date
from tmupload.targets.zephyr.repository import oldest_named

__all__ = ["build_description", "create_phase", "ensure_cycle", "find_cycle"]


def find_cycle(api: ZephyrApi, release_id: int, name: str) -> dict[str, Any] | None:
    return oldest_named(api.cycles(release_id), name)


def ensure_cycle(
    api: ZephyrApi,
    release_id: int,
    name: str,
    started: datetime,
    journal: Journal | None,
    build: str | None = None,
) -> dict[str, Any]:
    """docs/servers/zephyr.md §5.4: ``POST /cycle`` with the documented body (``MM/dd/yyyy`` dates).
    The cycle outlives this run, so it spans a year from it (phases must fit in their cycle). Found
    by name before it is created, and after a lost answer: safe without a journal too."""
    found = find_cycle(api, release_id, name)
    if found is not None:
        return found
    if journal is not None:
        journal.declare(CYCLE, {"name": name, "at_epoch": time.time()})
    body = {
        "name": name,
        "build": build or "",  # the build that made the cycle (ci.py)
        "environment": "",
        "status": 0,
        "cycleStartDate": us_date(started),
        "cycleEndDate": us_date(started + timedelta(days=365)),
        "releaseId": release_id,
    }
    try:
        return api.create_cycle(body)
    except ServerError as exc:
        again = find_cycle(api, release_id, name) if answer_lost(exc) else None
        if again is None:
            raise
        return again


def _phases(api: ZephyrApi, release_id: int, cycle_id: int) -> list[dict[str, Any]]:
    phases = api.cycle(cycle_id).get("cyclePhases")
    if not isinstance(phases, list):  # a cycle read without its phases: the release's list
        cycle = next((c for c in api.cycles(release_id) if as_id(c.get("id")) == cycle_id), {})
        phases = cycle.get("cyclePhases") or []
    return [p for p in phases if isinstance(p, dict)]


def _phase_ref(phase: dict[str, Any]) -> dict[str, int]:
    phase_id, tree_id = as_id(phase.get("id")), as_id(phase.get("tcrCatalogTreeId"))
    if phase_id is None or tree_id is None:
        raise ServerProtocolError(f"the cycle phase has no id or tree: {str(phase)[:200]}")
    return {"phase": phase_id, "tree": tree_id}


def _clamp(value: int, cycle: dict[str, Any]) -> int:
    low, high = as_id(cycle.get("startDate")), as_id(cycle.get("endDate"))
    if high is not None and value > high:
        value = high
    if low is not None and value < low:
        value = low
    return value


def create_phase(
    api: ZephyrApi,
    cycle: dict[str, Any],
    release_id: int,
    run: RunReport,
    journal: Journal,
    phases: list[dict[str, Any]] | None = None,
) -> dict[str, int]:
    """One free-form phase for this upload (docs/servers/zephyr.md §5.4, the plugin's body
    [CLIENT]). ``phases``: the cycle's phases as just read (None: read them here)."""
    cycle_id = int(as_id(cycle.get("id")) or 0)
    name = cut_name(run.name)
    intent = journal.intent(PHASE)
    if intent is not None and intent.get("cycle") == cycle_id:
        mine = _new_phase(api, release_id, cycle_id, name, intent.get("known", []))
        if mine is not None:
            return _phase_ref(mine)
        phases = None  # an earlier attempt's read is not this one's
    if phases is None:
        phases = _phases(api, release_id, cycle_id)
    known = [as_id(p.get("id")) for p in phases if isinstance(p, dict) and p.get("name") == name]
    journal.declare(PHASE, {"cycle": cycle_id, "name": name, "known": known})
    body = {
        "name": name,
        "description": build_description(run.environment),
        "cycleId": cycle_id,
        "releaseId": release_id,
        "freeForm": True,
        "startDate": _clamp(epoch_ms(run.started_at), cycle),
        "endDate": _clamp(epoch_ms(run.finished_at), cycle),
    }
    try:
        created = api.create_phase(cycle_id, body)
    except ServerError as exc:
        again = _new_phase(api, release_id, cycle_id, name, known) if answer_lost(exc) else None
        if again is None:
            raise
        created = again
    if as_id(created.get("tcrCatalogTreeId")) is None:
        created = _new_phase(api, release_id, cycle_id, name, known) or created
    return _phase_ref(created)


def build_description(environment: dict[str, str]) -> str:
    """What a phase says of the build that made its run (ci.py): number, link, commit."""
    parts = [
        f"build {environment['build']}" if environment.get("build") else "",
        environment.get("build_url", ""),
        f"commit {environment['commit']}" if environment.get("commit") else "",
        f"branch {environment['branch']}" if environment.get("branch") else "",
    ]
    return " · ".join(part for part in parts if part)


def _new_phase(
    api: ZephyrApi, release_id: int, cycle_id: int, name: str, known: list[Any]
) -> dict[str, Any] | None:
    """The same-named phase that did not exist before our POST (the newest, if several)."""
    new = [
        p
        for p in _phases(api, release_id, cycle_id)
        if p.get("name") == name and as_id(p.get("id")) not in known
    ]
    return max(new, key=lambda p: as_id(p.get("id")) or 0) if new else None
