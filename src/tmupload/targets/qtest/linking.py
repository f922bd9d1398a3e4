"""Linking a case's test log to a defect key, one key at a time (docs/servers/qtest.md §7.2, §7.3).

Links go on the *log* of this upload (docs/servers/qtest.md §7.3: a run cannot be a link source),
found among the run's logs by the dates this upload sent. Each key is linked alone with
``POST …/test-logs/{id}/defects``: a request holding one unknown key may link nothing at all
(docs/servers/qtest.md §7.2 gives only a 404 "Link defect unsuccessfully"), and ``defect_pids`` in
the batch is not used because whether an unknown key fails the whole job is [UNCONFIRMED]
(docs/servers/qtest.md §7.1). Every link is read back (``linked-artifacts``) after, and before
unless the log is ``fresh``: a key already there is ``already_linked`` (a resend never links twice),
one the server does not show is unknown. The id of a log may come from its queue job (``log_ids``)
instead of a search among the run's logs; with ``fresh``, those logs are this very delivery's
(no earlier attempt reached the links, and the logs carried no ``defect_pids``), so nothing
can be linked to them yet and the read before is left out.
"""

from __future__ import annotations

import threading
from typing import Any

from tmupload.errors import ServerRejected
from tmupload.http.dialect import generic_message
from tmupload.linking import LinkRequest
from tmupload.targets.base import LinkResult
from tmupload.targets.qtest.api import QTestApi, defect_keys
from tmupload.targets.qtest.readback import find_our_log

__all__ = ["Linker"]


def _has(keys: set[str] | None, key: str) -> bool:
    return keys is not None and key.lower() in {k.lower() for k in keys}


class Linker:
    """Safe to call from several threads (``linking.link_all`` bounds the concurrency)."""

    def __init__(
        self,
        api: QTestApi,
        project_id: str,
        runs: dict[str, str],
        sent: dict[str, dict[str, Any]],
        *,
        log_ids: dict[str, str] | None = None,
        fresh: bool = False,
    ) -> None:
        self.api = api
        self.project_id = project_id
        self.runs = runs  # case id -> run id
        self.sent = sent  # case id -> the log we sent (to find its id among the run's logs)
        self._logs: dict[str, str | None] = dict(log_ids or {})
        self._fresh = set(log_ids or ()) if fresh else set()  # case ids
        self._lock = threading.Lock()

    def _log_id(self, case_id: str) -> str | None:
        with self._lock:
            if case_id in self._logs:
                return self._logs[case_id]
        run_id = self.runs.get(case_id)
        found = None
        if run_id is not None and case_id in self.sent:
            found = find_our_log(self.api, self.project_id, {"id": run_id}, self.sent[case_id])
        log_id = str(found["id"]) if found and found.get("id") is not None else None
        with self._lock:
            self._logs[case_id] = log_id
        return log_id

    def _read(self, log_id: str) -> set[str] | None:
        try:
            return self.api.linked_defects(self.project_id, log_id)
        except ServerRejected:
            return None  # a server without this read: trust the link call's answer

    def link(self, request: LinkRequest) -> LinkResult:
        case_id, key = request.case_id, request.key
        log_id = self._log_id(case_id)
        if log_id is None:
            return LinkResult(
                case_id, key, "failed", "qTest shows no test log of this upload for the case"
            )
        if case_id not in self._fresh and _has(self._read(log_id), key):
            return LinkResult(case_id, key, "already_linked")
        response = self.api.link_defects(self.project_id, log_id, [key])
        if response.status_code == 404:
            said = generic_message(response) or "Link defect unsuccessfully"
            return LinkResult(case_id, key, "unknown_ticket", said)
        after = self._read(log_id)
        if after is None:
            try:
                after = defect_keys(response.json())
            except ValueError:
                after = set()
        if _has(after, key):
            return LinkResult(case_id, key, "linked")
        return LinkResult(
            case_id,
            key,
            "unknown_ticket",
            "qTest accepted the link but does not show it on the test log (no such defect?)",
        )
