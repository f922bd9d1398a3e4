"""Outbox entries spooled with one run key become one run (``tmupload send``).

CI shards of one pipeline run spool their runs with the same *run key* (``--tm-run-key``, or the
CI's id of the run, see ``ci.py``), usually with ``--tm-defer``; their outbox folders are then
gathered into one folder (or given as several ``--outbox``). Entries of one key, one target and
one placement are joined into one entry before anything is sent, so that each server gets one
run: the cases of every shard in the order of the shards' start, a node id found in two of them
(a shard the CI ran again) once — the later shard's — and every shard's attachments copied
into the joined entry.

Joining is two steps on disk: the joined entry is written whole (a hidden staging folder,
renamed into place, its ``settings.json`` naming the entries it holds), then those entries are
removed. A ``send`` stopped between the two finds the joined entry and removes what it holds
before anything else, so no result is sent twice and none is lost. The joined entry's name is
fixed by the key, target and placement: a second joined entry of the same key cannot appear
while the first waits; shards of that key that arrive meanwhile wait for the next ``send``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tmupload.delivery.entry_writer import INTERRUPTED
from tmupload.delivery.journal import write_atomic
from tmupload.delivery.outbox import Outbox, OutboxEntry, OutboxLocked
from tmupload.delivery.runfile import write_run
from tmupload.models import Attachment, CaseResult, RunReport

__all__ = ["JOINED_PREFIX", "Joined", "join_shards"]

JOINED_PREFIX = "joined-"
#: Frozen settings that say which build a shard came from, not where its run goes.
_NOT_PLACEMENT = ("run_key", "build", "build_url")


@dataclass
class Joined:
    """What joining did to one run key."""

    key: str
    target: str
    entry: Path
    shards: int
    cases: int
    counted_once: list[str]  # node ids found in more than one shard (the later one kept)


def _group(entry: OutboxEntry) -> tuple[str, str, str] | None:
    frozen = entry.frozen()
    key = frozen.get("run_key")
    if not key:
        return None
    placement = {k: v for k, v in frozen.items() if k not in _NOT_PLACEMENT}
    return (entry.target, str(key), json.dumps(placement, sort_keys=True, default=str))


def _name(group: tuple[str, str, str]) -> str:
    digest = hashlib.sha256("\x00".join(group).encode("utf-8")).hexdigest()[:16]
    return f"{JOINED_PREFIX}{digest}"


def _holds(entry: OutboxEntry) -> list[str]:
    held = entry.stored().get("joined_from")
    return [str(name) for name in held] if isinstance(held, list) else []


def join_shards(roots: list[Path], into: Path, say: Callable[[str], None]) -> list[Joined]:
    """Join the entries below ``roots`` that share a run key (target and placement too) into
    one entry each, in ``into``. Entries without a key, and a key's only entry, stay."""
    entries = [entry for root in roots for entry in Outbox(root).entries()]
    _finish_earlier_joins(entries, say)
    entries = [entry for root in roots for entry in Outbox(root).entries()]
    joined_names = {e.name for e in entries if e.name.startswith(JOINED_PREFIX)}
    groups: dict[tuple[str, str, str], list[OutboxEntry]] = {}
    for entry in entries:
        if entry.name.startswith(JOINED_PREFIX):
            continue
        group = _group(entry)
        if group is not None:
            groups.setdefault(group, []).append(entry)
    done: list[Joined] = []
    for group, members in groups.items():
        name = _name(group)
        if name in joined_names:
            say(
                f"run key {group[1]}: an earlier joined run waits to be sent; "
                f"{len(members)} more shard(s) go with the next send"
            )
            continue
        if len(members) < 2:
            continue
        try:
            with _all_locked(members):
                done.append(_join(group, members, into / name))
        except OutboxLocked:
            say(f"run key {group[1]}: a shard is being sent by another process; left as is")
            continue
        for member in members:
            shutil.rmtree(member.path, ignore_errors=True)
        said = done[-1]
        again = f"; {len(said.counted_once)} node id(s) in two shards counted once (the later)"
        say(
            f"joined {said.shards} shards of run key {said.key} into one {said.target} run "
            f"of {said.cases} results{again if said.counted_once else ''}"
        )
    return done


def _finish_earlier_joins(entries: list[OutboxEntry], say: Callable[[str], None]) -> None:
    """Remove the shards a joined entry already holds (a send stopped after writing it)."""
    by_name = {entry.name: entry for entry in entries}
    for entry in entries:
        for name in _holds(entry):
            shard = by_name.get(name)
            if shard is not None and shard.path != entry.path:
                shutil.rmtree(shard.path, ignore_errors=True)
                say(f"{name}: already in the joined run {entry.name}; removed")


@contextlib.contextmanager
def _all_locked(entries: list[OutboxEntry]) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for entry in entries:
            stack.enter_context(entry.locked())
        yield


def _join(group: tuple[str, str, str], members: list[OutboxEntry], final: Path) -> Joined:
    runs = sorted(
        ((entry.run(), entry) for entry in members), key=lambda p: (p[0].started_at, p[1].name)
    )
    kept: dict[str, tuple[CaseResult, Path]] = {}
    seen_twice: list[str] = []
    for run, entry in runs:
        for case in run.cases:
            if case.case_id in kept:
                seen_twice.append(case.case_id)
                del kept[case.case_id]  # the later shard's, at the later place
            kept[case.case_id] = (case, entry.path)
    first = runs[0][0]
    interrupted = any(run.name.endswith(INTERRUPTED) for run, _ in runs)
    name = first.name.removesuffix(INTERRUPTED) + (INTERRUPTED if interrupted else "")
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=final.parent, prefix=".joining-"))
    try:
        cases = [
            _with_files(case, staging, number) for number, (case, _) in enumerate(kept.values())
        ]
        run = RunReport(
            name=name,
            started_at=min(run.started_at for run, _ in runs),
            finished_at=max(run.finished_at for run, _ in runs),
            environment={**first.environment, "shards": str(len(runs))},
            cases=cases,
        )
        write_run(run, staging)
        stored: dict[str, Any] = dict(runs[0][1].stored())
        stored["joined_from"] = [entry.name for _, entry in runs]
        write_atomic(staging / "settings.json", json.dumps(stored, indent=1).encode("utf-8"))
        os.replace(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Joined(
        key=group[1],
        target=group[0],
        entry=final,
        shards=len(runs),
        cases=len(cases),
        counted_once=sorted(set(seen_twice)),
    )


def _with_files(case: CaseResult, staging: Path, number: int) -> CaseResult:
    """``case`` with its attachments copied into the joined entry (paths relative to it)."""
    if not case.attachments:
        return case
    folder = staging / "attachments"
    folder.mkdir(exist_ok=True)
    moved: list[Attachment] = []
    for index, item in enumerate(case.attachments):
        target = folder / f"{number}-{index}-{Path(item.path).name}"
        shutil.copyfile(item.path, target)
        moved.append(
            Attachment(
                name=item.name,
                content_type=item.content_type,
                path=str(target.relative_to(staging)),
                size=item.size,
                sha256=item.sha256,
                attempt=item.attempt,
            )
        )
    case.attachments = moved
    return case
