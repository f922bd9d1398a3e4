"""The journal's words, in one place, and the idiom of a resumable step.

A step's name is what an outbox entry written by an earlier version recorded: these strings
are a file format, never renamed. The per-item kinds (``LINKS``, ``ATTACHMENTS``) and the
attachment key are shared with the core's senders (``tmupload.linking``,
``tmupload.attachments``), so that a target sending files its own way (Zephyr, in batches)
journals them as the core does and a resend finds them either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

from tmupload.models import Attachment, CaseResult
from tmupload.targets.base import Journal

__all__ = [
    "ATTACHMENTS",
    "CYCLE",
    "EXECUTIONS",
    "FOLDERS",
    "MAPPED",
    "PHASE",
    "PLACEMENT",
    "READBACK",
    "STATUSES",
    "STREAM",
    "SUBMITTED",
    "TESTCASES",
    "UPLOAD",
    "UPLOADED",
    "attachment_key",
    "once",
    "placement_or_prepared",
]

# -- steps (``Journal.done`` / ``finish``; some are intents too) -----------------------------
#: Where the run goes (every target): project, release or assignment, ... — before any write.
PLACEMENT = "placement"
#: Enterprise Tester: the results document went up and became a run (``UPLOAD``: its
#: intent, declared before the POST, with the runs that were there before).
UPLOADED = "uploaded"
UPLOAD = "upload"
#: The server's record of each case (ET: result nodes; qTest: runs and logs).
MAPPED = "mapped"
#: qTest: every chunk of test logs landed; ``STREAM``: what the stream submitted while the
#: tests ran (written by the target from the stream's handoff, read like its own).
SUBMITTED = "submitted"
STREAM = "stream"
#: Zephyr: the repository's folders and test cases, the cycle, this upload's phase, the
#: executions in it, the status batches, and the read-back when their answers showed too little.
TESTCASES = "testcases"
#: Zephyr: an intent only (declared before the first repository folder is created).
FOLDERS = "folders"
CYCLE = "cycle"
PHASE = "phase"
EXECUTIONS = "executions"
STATUSES = "statuses"
READBACK = "readback"

# -- per-item kinds (``Journal.items`` / ``item_done``); ``ATTACHMENTS`` is an intent too -----
ATTACHMENTS = "attachments"

#: What a step records: a JSON object (its maps as the target uses them when it is fresh).
D = TypeVar("D", bound=dict[str, Any])


def attachment_key(case: CaseResult, index: int, item: Attachment) -> str:
    """The journal key of one attachment of one case (the file's hash: a changed file is a
    new one)."""
    return f"{case.case_id}\x00{index}\x00{item.sha256}"


@overload
def once(journal: Journal, step: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]: ...


@overload
def once(
    journal: Journal, step: str, compute: Callable[[], D], revive: Callable[[dict[str, Any]], D]
) -> D: ...


def once(
    journal: Journal,
    step: str,
    compute: Callable[[], dict[str, Any]],
    revive: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What ``step`` recorded when it finished; else ``compute()``, recorded as finished.

    ``revive`` turns what an earlier attempt recorded (read back from JSON: lists where
    tuples were) into what ``compute`` returns; a fresh result is used as it is, never
    copied (the maps of a million cases are held once)."""
    data = journal.done(step)
    if data is None:
        data = compute()
        journal.finish(step, data)
        return data
    return revive(data) if revive is not None else data


def placement_or_prepared(
    journal: Journal, prepared: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The placement as journaled; else the one ``prepare`` found while the tests ran,
    journaled now; else None (the caller resolves it, creating what is missing)."""
    placed = journal.done(PLACEMENT)
    if placed is None and prepared is not None:
        placed = prepared
        journal.finish(PLACEMENT, placed)
    return placed
