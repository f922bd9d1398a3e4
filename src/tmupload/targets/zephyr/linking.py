"""Linking a failing execution to its defect keys (docs/servers/zephyr.md §5.8; §7 step 5).

The keys are always in the execution's notes (payload.py). The link itself is
``POST /defectmapping/`` "Save defect schedule" [BP], whose body is [UNCONFIRMED]: no source
shows it. "Defect schedule" reads as *an execution (schedule) and its defects*, so the body
sent first is ``{"scheduleId": <execution id>, "defectList": [key]}``; a 400 for that shape
tries ``{"scheduleId", "defectId": key}`` once, and the shape that worked is kept for the
rest. A 404, or a 400 whose message names the key, is an unknown key (reported per test).
If the server refuses both shapes (or the call: 405/415/501), linking stops for the upload
with one clear message: the keys stay in the notes, and the upload does not fail.

Every link is read back from the execution (``GET /execution/{id}``) after it is made (a key
accepted but not shown is unknown); when an earlier attempt may have made it (``look_first``:
a resume), also before (a key already there is ``already_linked``: a resend never links
twice). An execution this attempt made has no link yet, so a first attempt does not look.
A server whose execution shows no defect field is trusted on its answer.
"""

from __future__ import annotations

import threading
from typing import Any

from tmupload.errors import ServerError, ServerRejected
from tmupload.linking import LinkRequest
from tmupload.targets.base import LinkResult, Progress
from tmupload.targets.zephyr.api import ZephyrApi, answer_lost, zephyr_message

__all__ = ["NOTES_ONLY", "DefectLinker", "defect_keys"]

_SHAPES = ("defectList", "defectId")
_DEFECT_FIELDS = ("defects", "defectList", "linkedDefects", "defectIds")
_KEY_FIELDS = ("key", "externalId", "defectKey", "externalDefectId", "name", "id")
#: The reason recorded for a key left in the notes because the server refused the mapping.
NOTES_ONLY = "in the execution's notes only: Zephyr refused POST /defectmapping/"


def defect_keys(execution: dict[str, Any]) -> set[str] | None:
    """The defect keys an execution shows (lower case), or None if it shows no such field
    ([UNCONFIRMED] how a real server shows them)."""
    keys: set[str] | None = None
    for name in _DEFECT_FIELDS:
        value = execution.get(name)
        if not isinstance(value, list):
            continue
        keys = keys or set()
        for item in value:
            if isinstance(item, dict):
                item = next((item[f] for f in _KEY_FIELDS if item.get(f) not in (None, "")), "")
            if item not in (None, ""):
                keys.add(str(item).lower())
    return keys


def _body(shape: str, rts: int, key: str) -> dict[str, Any]:
    return (
        {"scheduleId": rts, "defectList": [key]}
        if shape == "defectList"
        else {
            "scheduleId": rts,
            "defectId": key,
        }
    )


class DefectLinker:
    """Safe to call from several threads (``linking.link_all`` bounds the concurrency)."""

    def __init__(
        self,
        api: ZephyrApi,
        executions: dict[str, int],
        trouble: Progress,
        *,
        look_first: bool = True,
    ) -> None:
        self.api = api
        self.executions = executions  # case id -> execution (RTS) id
        self.trouble = trouble
        self.look_first = look_first
        self.shape: str | None = None
        self.refused: str | None = None
        self._first = threading.Lock()

    def _read(self, rts: int) -> set[str] | None:
        try:
            return defect_keys(self.api.execution(rts))
        except ServerRejected:
            return None

    def link(self, request: LinkRequest) -> LinkResult:
        case_id, key = request.case_id, request.key
        rts = self.executions.get(case_id)
        if rts is None:
            return LinkResult(case_id, key, "failed", "Zephyr shows no execution for the case")
        if self.refused is None and self.look_first:
            before = self._read(rts)
            if before is not None and key.lower() in before:
                return LinkResult(case_id, key, "already_linked")
        if self.shape is None and self.refused is None:
            with self._first:  # the first link finds the shape; the others wait for it
                result = self._post(case_id, key, rts)
        else:
            result = self._post(case_id, key, rts)
        if result is not None:
            return result
        after = self._read(rts)
        if after is None or key.lower() in after:
            return LinkResult(case_id, key, "linked")
        return LinkResult(
            case_id, key, "unknown_ticket", "Zephyr accepted the link but does not show it"
        )

    def _post(self, case_id: str, key: str, rts: int) -> LinkResult | None:
        """None when linked; else the result (unknown, or notes only)."""
        if self.refused is not None:
            return LinkResult(case_id, key, "noted", NOTES_ONLY)
        said = ""
        status = 0
        for shape in (self.shape,) if self.shape else _SHAPES:
            try:
                response = self.api.map_defect(_body(shape, rts, key))
            except ServerError as exc:
                # A lost answer: the read-back after this says whether the link landed.
                if not answer_lost(exc):
                    raise
                return None
            if response.is_success:
                self.shape = shape
                return None
            said = zephyr_message(response) or ""
            status = response.status_code
            if status == 404 or (status == 400 and key.lower() in said.lower()):
                return LinkResult(case_id, key, "unknown_ticket", said or f"HTTP {status}")
            if status != 400:
                break
        if self.shape is not None and status == 400:
            return LinkResult(case_id, key, "unknown_ticket", said or "HTTP 400")
        self.refused = f"HTTP {status}" + (f': "{said}"' if said else "")
        self.trouble(
            f"Zephyr refused POST /defectmapping/ ({self.refused}): the defect keys stay in "
            "the failing executions' notes only — link them in Zephyr's execution screen "
            "(the request body of this call is not documented, see the README)"
        )
        return LinkResult(case_id, key, "noted", NOTES_ONLY)
