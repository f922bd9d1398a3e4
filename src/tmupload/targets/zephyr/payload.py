"""RunReport -> what Zephyr Enterprise is sent (docs/servers/zephyr.md §5.3, §5.6): pure functions,
no I/O.

* Where a case lives: ``--tm-repository-folder`` (a Phase folder, then Modules), then one
  Module per part of the node id's path (folders, file, classes); the test case is named by
  the rest below the file, classes included (``TestLogin::test_ok[x]``: a phase lists
  executions by test case name, and two classes' ``test_total`` must read apart there), with
  parameter ids as written (``[€1 000,00]``, not pytest's escaped node id). Matching is by
  exact name in that folder (docs/servers/zephyr.md §5.3 [CLIENT]: the vendor's own rule), so a
  second upload finds every case again.
* Names are cut to 255 characters (docs/servers/zephyr.md §2 [CLIENT] ``TESTCASE_NAME_LIMIT``); a
  cut name ends with a hash of the whole one, so two long names that share a head stay two test
  cases.
* Notes: the defect keys first (always, docs/servers/zephyr.md §5.8: until a mapping is confirmed
  they live there), then reruns, the failing phase, the message and the failure text, bounded.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from tmupload.models import CaseResult, Outcome, bound
from tmupload.targets.toolkit.notes import how_it_ran
from tmupload.targets.toolkit.places import node_parts

__all__ = [
    "MAX_NAME",
    "MAX_NOTES",
    "case_place",
    "cut_name",
    "epoch_ms",
    "execution_item",
    "notes",
    "split_path",
    "testcase_item",
    "us_date",
]

#: docs/servers/zephyr.md §2 [CLIENT]: the plugin cuts test-case names to 255 characters.
MAX_NAME = 255
#: The notes' size limit is not published [UNCONFIRMED]: bounded, head and tail kept.
MAX_NOTES = 4000
_DIGEST = 12


def cut_name(text: str, limit: int = MAX_NAME) -> str:
    """``text`` within ``limit`` characters; a cut one ends with ``… <sha1 of the whole>``."""
    text = text.strip() or "(unnamed)"
    if len(text) <= limit:
        return text
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:_DIGEST]
    return f"{text[: limit - _DIGEST - 2]}… {digest}"


def split_path(path: str | None) -> list[str]:
    """``--tm-repository-folder`` segments, separated by ``/`` (README.md#zephyr-enterprise)."""
    return [part.strip() for part in (path or "").split("/") if part.strip()]


@lru_cache(maxsize=65536)
def _folder_path(parts: tuple[str, ...]) -> tuple[str, ...]:
    """The folder path of ``parts``, names cut; one shared tuple for the many cases of a
    folder (a million-case import has a few thousand folders)."""
    return tuple(cut_name(part) for part in parts)


def case_place(case: CaseResult, root: list[str]) -> tuple[tuple[str, ...], str]:
    """(folder path, test case name). ``tests/api/test_auth.py::TestLogin::test_ok[x]``
    under ``Automation`` -> ``(Automation, tests, api, test_auth.py, TestLogin)``,
    ``TestLogin::test_ok[x]``; an imported ``suite::classname::name`` -> the suite's parts
    (its `` / `` nesting too), the classname, then ``classname::name``. The name is
    ``models.shown_name``: the classes, and parameter ids as written."""
    modules, name = node_parts(case)
    leaf = cut_name(name)
    # The case's own string when equal: a million cases then hold each name once.
    return _folder_path((*root, *modules)), case.name if leaf == case.name else leaf


def notes(case: CaseResult, keys: list[str], limit: int = MAX_NOTES) -> str:
    """The execution's notes: defect keys, reruns, the failing phase, message, details."""
    lines = how_it_ran(case)
    if case.outcome in (Outcome.SKIPPED, Outcome.XFAILED):
        lines.append(f"{case.outcome.value}: {case.message}" if case.message else "skipped")
    elif case.message:
        lines.append(case.message)
    if case.details and case.details.strip() != case.message.strip():
        lines.append(case.details)
    head = f"Defects: {', '.join(keys)}" if keys else ""
    room = max(200, limit - len(head) - 1)
    body = bound("\n".join(lines), room) if lines else ""
    return "\n".join(part for part in (head, body) if part)


def epoch_ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def us_date(moment: datetime) -> str:
    """docs/servers/zephyr.md §2 [DOC]: request bodies take ``MM/dd/yyyy``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%m/%d/%Y")


def testcase_item(
    folder_id: int, name: str, case_id: str, project_id: int, release_id: int
) -> dict[str, Any]:
    """One ``POST /testcase/bulk`` item, as the plugin sends it (docs/servers/zephyr.md §5.3
    [CLIENT]); ``customProperties`` must be ``{}``, not null."""
    return {
        "tcrCatalogTreeId": folder_id,
        "testcase": {
            "name": name,
            "description": f"pytest node id: {case_id}"[:4000],
            "tag": "",
            "projectId": project_id,
            "releaseId": release_id,
            "automated": True,
            "scriptName": "tmupload",
            "customProperties": {},
        },
    }


def execution_item(
    rts_id: int,
    tester_id: int,
    status: str,
    note: str,
    duration: float,
    executed_on: int,
) -> dict[str, Any]:
    """One ``PUT /execution/bulk/execute`` item (docs/servers/zephyr.md §5.6 way 3 [CLIENT]):
    ``status`` a string id, ``actualTime`` in milliseconds, dates in epoch ms."""
    return {
        "rtsId": rts_id,
        "testerId": tester_id,
        "status": status,
        "notes": note,
        "actualTime": max(0, round(duration * 1000)),
        "executedOn": executed_on,
        "changedOn": executed_on,
        "changeBy": tester_id,
    }
