"""Typed calls to the qTest Manager REST API (docs/servers/qtest.md §3-§8). No workflow here.

The reference marks many shapes as [UNCONFIRMED]; the readers below accept the plausible
variants rather than one: lists as bare arrays or ``{items}`` envelopes, statuses as strings
or ``StatusResource`` objects, Automation Content as a field or a run/test-case property.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import httpx

from tmupload.errors import ServerProtocolError
from tmupload.http.client import HttpClient
from tmupload.http.dialect import ServerDialect, generic_message
from tmupload.targets.qtest.auth import QTEST_SITE, qtest_auth
from tmupload.targets.toolkit.connection import ClientRecipe

__all__ = [
    "QTEST_CLIENT",
    "QTEST_DIALECT",
    "QTestApi",
    "automation_content",
    "parse_time",
    "qtest_client",
]

#: docs/servers/qtest.md §9: errors carry ``{"message": ...}`` (the vendor plugin falls back to the
#: raw body).
QTEST_DIALECT = ServerDialect(
    message=generic_message,
    hints={
        403: "the qTest user lacks a permission in this project (a read-only account or "
        "token?) — use an account that may submit test logs",
        404: "not found: check --tm-url (the qTest site, e.g. https://acme.qtestnet.com) and "
        "--tm-project",
        413: "the request is too large for the server",
    },
    url_hint=QTEST_SITE,
)

#: docs/servers/qtest.md §2: ``pageSize`` goes up to 999; a page shorter than asked is the last one.
PAGE_SIZE = 999


#: qTest's clients: its auth (docs/servers/qtest.md §3: a bearer token, or one asked for) and its
#: errors.
QTEST_CLIENT = ClientRecipe(QTEST_DIALECT, qtest_auth)
qtest_client = QTEST_CLIENT.open


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 in any of the forms seen (``Z``, ``+00:00``, ``+0000``, none: UTC)."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _props(item: dict[str, Any]) -> list[dict[str, Any]]:
    props = item.get("properties")
    return [p for p in props if isinstance(p, dict)] if isinstance(props, list) else []


def _prop(item: dict[str, Any], name: str) -> dict[str, Any] | None:
    for prop in _props(item):
        if str(prop.get("field_name", "")).strip().lower() == name:
            return prop
    return None


def automation_content(item: dict[str, Any]) -> str | None:
    """A run's (or test case's) Automation Content: a field, or a property
    (docs/servers/qtest.md §4.1 calls it the fingerprint; where a run shows it is [UNCONFIRMED])."""
    for key in ("automation_content", "automationContent"):
        if isinstance(item.get(key), str):
            return html.unescape(str(item[key]))
    prop = _prop(item, "automation content")
    if prop is not None and prop.get("field_value") is not None:
        return html.unescape(str(prop["field_value"]))
    case = item.get("test_case")
    if isinstance(case, dict) and case is not item:
        return automation_content(case)
    return None


def status_name(item: dict[str, Any]) -> str | None:
    """A log's or run's execution status name: ``{"name": ...}``, a string, or the run's
    "Status" property (docs/servers/qtest.md §6)."""
    status = item.get("status")
    if isinstance(status, dict) and status.get("name"):
        return str(status["name"])
    if isinstance(status, str) and status:
        return status
    prop = _prop(item, "status") or _prop(item, "execution status")
    if prop is not None:
        value = prop.get("field_value_name") or prop.get("field_value")
        return str(value) if value not in (None, "") else None
    latest = item.get("latest_test_log")
    return status_name(latest) if isinstance(latest, dict) else None


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ServerProtocolError(
            f"the server answered {what} with something that is not JSON (HTTP "
            f"{response.status_code}); is --tm-url the qTest site, e.g. https://acme.qtestnet.com?"
        ) from None


def _items(body: Any, what: str) -> list[dict[str, Any]]:
    """docs/servers/qtest.md §8: some lists are bare arrays, others
    ``{page, page_size, total, items}``."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        body = body["items"]
    if not isinstance(body, list):
        raise ServerProtocolError(f"the server's answer for {what} is neither a list nor {{items}}")
    return [item for item in body if isinstance(item, dict)]


def _object(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ServerProtocolError(f"unexpected {what} from the server: {str(body)[:200]}")
    return body


class QTestApi:
    """One method per documented call; answers are plain dicts read with the helpers above."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def _get(self, path: str, what: str, params: dict[str, str] | None = None) -> Any:
        return _json(self.http.request("GET", path, params=params), what)

    def _paged(self, path: str, what: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every item over pages of ``PAGE_SIZE``, until a short page (docs/servers/qtest.md §2)."""
        page = 1
        while True:
            body = self._get(path, what, {**params, "page": str(page), "pageSize": str(PAGE_SIZE)})
            items = _items(body, what)
            yield from items
            total = body.get("total") if isinstance(body, dict) else None
            if len(items) < PAGE_SIZE or (isinstance(total, int) and page * PAGE_SIZE >= total):
                return
            page += 1

    # -- projects, releases, cycles (docs/servers/qtest.md §8) -------------------------------------
    def projects(self) -> list[dict[str, Any]]:
        # Every site lists its projects: a 404 here is the URL (a token's first call).
        response = self.http.request("GET", "api/v3/projects", probe=True)
        return _items(_json(response, "projects"), "projects")

    def project(self, project_id: str) -> dict[str, Any] | None:
        response = self.http.request("GET", f"api/v3/projects/{project_id}", allow=(404,))
        if response.status_code == 404:
            return None
        return _object(_json(response, "project"), "project")

    def releases(self, project_id: str) -> list[dict[str, Any]]:
        path = f"api/v3/projects/{project_id}/releases"
        return _items(self._get(path, "releases"), "releases")

    def cycles(self, project_id: str, parent_type: str, parent_id: str) -> list[dict[str, Any]]:
        params = {"parentType": parent_type, "parentId": parent_id}
        return list(self._paged(f"api/v3/projects/{project_id}/test-cycles", "test cycles", params))

    def cycle(self, project_id: str, cycle_id: str) -> dict[str, Any]:
        path = f"api/v3/projects/{project_id}/test-cycles/{cycle_id}"
        return _object(self._get(path, "test cycle"), "test cycle")

    def create_cycle(
        self, project_id: str, parent_type: str, parent_id: str, name: str
    ) -> dict[str, Any]:
        body = {"name": name, "description": "Created by tmupload for automated results."}
        response = self.http.request(
            "POST",
            f"api/v3/projects/{project_id}/test-cycles",
            params={"parentType": parent_type, "parentId": parent_id},
            json=body,
            idempotent=False,
            ok=(201, 200),
        )
        return _object(_json(response, "POST test-cycles"), "test cycle")

    def execution_statuses(self, project_id: str) -> list[dict[str, Any]]:
        path = f"api/v3/projects/{project_id}/test-runs/execution-statuses"
        return _items(self._get(path, "execution statuses"), "execution statuses")

    # -- submission and jobs (docs/servers/qtest.md §4.1, §5) --------------------------------------
    def submit(self, project_id: str, body: bytes) -> dict[str, Any]:
        """``POST …/auto-test-logs?type=automation``; ``escapeXml=false`` keeps ``<``/``>`` in
        Automation Content as sent, so the fingerprint reads back unchanged
        (docs/servers/qtest.md §4.1)."""
        response = self.http.request(
            "POST",
            f"api/v3/projects/{project_id}/auto-test-logs",
            params={"type": "automation", "escapeXml": "false"},
            content=body,
            headers={"Content-Type": "application/json"},
            idempotent=False,
            ok=(201, 200),
        )
        return _object(_json(response, "the submission"), "queue job")

    def job(self, job_id: str) -> dict[str, Any] | None:
        """docs/servers/qtest.md §5: ``/api/v3/projects/queue-processing/{id}`` (no project
        segment)."""
        path = f"api/v3/projects/queue-processing/{job_id}"
        response = self.http.request("GET", path, allow=(404,))
        if response.status_code == 404:
            return None
        return _object(_json(response, "queue job"), "queue job")

    # -- runs and logs (docs/servers/qtest.md §7.4, §8) --------------------------------------------
    def runs_under(self, project_id: str, cycle_id: str) -> Iterator[dict[str, Any]]:
        """Every run below the cycle, sub-cycles included (``expand=descendants``)."""
        params = {"parentType": "test-cycle", "parentId": cycle_id, "expand": "descendants"}
        return self._paged(f"api/v3/projects/{project_id}/test-runs", "test runs", params)

    def test_case(self, project_id: str, case_id: str) -> dict[str, Any]:
        path = f"api/v3/projects/{project_id}/test-cases/{case_id}"
        return _object(self._get(path, "test case"), "test case")

    def search(self, project_id: str, object_type: str, query: str) -> list[dict[str, Any]] | None:
        """docs/servers/qtest.md §8: ``POST …/search`` for ``object_type`` matching ``query``, every
        page of ``PAGE_SIZE`` (the answer is ``{page, page_size, total, items}``). None when the
        server refuses the search itself (400: a criterion it does not know; 404/405: no
        search), so the caller can read another way."""
        path = f"api/v3/projects/{project_id}/search"
        body = {"object_type": object_type, "fields": ["*"], "query": query}
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"page": str(page), "pageSize": str(PAGE_SIZE)}
            response = self.http.request(
                "POST",
                path,
                json=body,
                params=params,
                idempotent=True,  # a read, whatever its method
                allow=(400, 404, 405, 501),
            )
            if response.status_code != 200:
                return None
            answer = _json(response, f"the {object_type} search")
            items = _items(answer, f"the {object_type} search")
            found.extend(items)
            total = answer.get("total") if isinstance(answer, dict) else None
            if len(items) < PAGE_SIZE or (isinstance(total, int) and page * PAGE_SIZE >= total):
                return found
            page += 1

    def last_log(self, project_id: str, run_id: str) -> dict[str, Any] | None:
        path = f"api/v3/projects/{project_id}/test-runs/{run_id}/test-logs/last-run"
        response = self.http.request("GET", path, allow=(404, 204))
        if response.status_code != 200 or not response.content:
            return None
        return _object(_json(response, "last test log"), "test log")

    def logs(self, project_id: str, run_id: str) -> Iterator[dict[str, Any]]:
        path = f"api/v3/projects/{project_id}/test-runs/{run_id}/test-logs"
        return self._paged(path, "test logs", {})

    # -- defect links (docs/servers/qtest.md §7.2, §7.3) -------------------------------------------
    def link_defects(self, project_id: str, log_id: str, keys: list[str]) -> httpx.Response:
        """``POST …/test-logs/{id}/defects`` with PIDs or Jira keys; 404 is returned
        (docs/servers/qtest.md §7.2: "Link defect unsuccessfully"), other errors raise."""
        return self.http.request(
            "POST",
            f"api/v3/projects/{project_id}/test-logs/{log_id}/defects",
            content=json.dumps(keys).encode("utf-8"),
            headers={"Content-Type": "application/json"},
            idempotent=False,
            ok=(201, 200),
            allow=(404,),
        )

    def linked_defects(self, project_id: str, log_id: str) -> set[str]:
        """The defect keys linked to a log (docs/servers/qtest.md §7.3
        ``linked-artifacts?type=test-logs``)."""
        body = self._get(
            f"api/v3/projects/{project_id}/linked-artifacts",
            "linked artifacts",
            {"type": "test-logs", "ids": log_id},
        )
        return defect_keys(body)


def defect_keys(body: Any) -> set[str]:
    """Keys in ``LinkedDefectContainer``/``LinkedArtifactContainer`` lists
    (docs/servers/qtest.md §7.2, §7.3)."""
    keys: set[str] = set()
    containers = body if isinstance(body, list) else _items(body, "links") if body else []
    for container in containers:
        if not isinstance(container, dict):
            continue
        for linked in container.get("objects") or []:
            if not isinstance(linked, dict):
                continue
            for field in ("pid", "external_defect_id", "key"):
                if isinstance(linked.get(field), str) and linked[field]:
                    keys.add(str(linked[field]))
    return keys
