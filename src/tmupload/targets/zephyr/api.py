"""Typed calls to the Zephyr Enterprise REST API (docs/servers/zephyr.md §2-§6). No workflow here.

The reference marks many shapes as [UNCONFIRMED] or known only from the vendor's Jenkins
plugin [CLIENT]; the readers accept the plausible variants rather than one: lists as bare
arrays or ``{"results": [...]}`` envelopes (docs/servers/zephyr.md §2, §5.2), ids as numbers or
strings, error messages in ``errorMsg``, ``message`` or a ``message`` holding JSON
(docs/servers/zephyr.md §6).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic_core import from_json

from tmupload.errors import ServerProtocolError, ServerUnavailable, TransportError
from tmupload.http.client import HttpClient
from tmupload.settings import Settings
from tmupload.targets.toolkit.connection import ClientRecipe
from tmupload.targets.zephyr.auth import zephyr_auth
from tmupload.targets.zephyr.messages import ZEPHYR_DIALECT, zephyr_message

__all__ = [
    "REST_PATH",
    "ZEPHYR_CLIENT",
    "ZEPHYR_DIALECT",
    "ZephyrApi",
    "answer_lost",
    "as_id",
    "decode",
    "results",
    "split_base",
    "zephyr_client",
    "zephyr_message",
]

#: docs/servers/zephyr.md §2: the API lives below ``/flex/services/rest/<version>``; ``latest``
#: unless the user wrote a version (the plugin uses ``v3`` for everything).
REST_PATH = "/flex/services/rest"
#: docs/servers/zephyr.md §2: the vendor plugin writes in batches of 500 (``BATCH_SIZE``); so do we.
BATCH = 500
#: Items asked per page: docs/servers/zephyr.md §5.3 [BP, CLIENT], the plugin lists a folder's test
#: cases with ``pagesize=10000``; every list is asked that way (fewer pages, fewer requests). A
#: server may answer fewer items than asked (the emulator returns at most 100 executions a page):
#: paging follows ``resultSize``, never the size of the page.
PAGE_SIZE = 10_000


def split_base(url: str) -> tuple[str, str]:
    """(server root, REST base with a trailing slash) for ``--tm-url`` given either as the
    server (``https://ze.example.com``) or as the API base (``…/flex/services/rest/latest``,
    docs/servers/zephyr.md §2; README.md#zephyr-enterprise allows both)."""
    parts = urlsplit(url.rstrip("/"))
    path = parts.path
    at = path.find(REST_PATH)
    version = "latest"
    if at >= 0:
        rest = path[at + len(REST_PATH) :].strip("/")
        if rest:
            version = rest.split("/")[0]
        path = path[:at]
    root = urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))
    return root, f"{root}{REST_PATH}/{version}/"


def _rest_base(settings: Settings) -> str:
    assert settings.url is not None
    return split_base(settings.url)[1]


#: Zephyr's clients: its auth (docs/servers/zephyr.md §3), its errors, and the REST base below the
#: server.
ZEPHYR_CLIENT = ClientRecipe(ZEPHYR_DIALECT, zephyr_auth, _rest_base)
zephyr_client = ZEPHYR_CLIENT.open


def as_id(value: Any) -> int | None:
    """A numeric id sent as a number or a string (the plugin's models use both)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def results(body: Any, what: str) -> list[dict[str, Any]]:
    """docs/servers/zephyr.md §2, §5.2: a bare array or ``{"results": [...]}``; handle both."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        body = body["results"]
    if not isinstance(body, list):
        raise ServerProtocolError(
            f"the server's answer for {what} is neither a list nor {{results}}: "
            f"{str(body)[:200]}; is --tm-url a Zephyr Enterprise server?"
        )
    return [item for item in body if isinstance(item, dict)]


def decode(response: httpx.Response) -> Any:
    """The JSON of an answer; ValueError if it is not JSON. The answers of bulk calls hold
    thousands of objects (10,000 executions: about 6 MB): pydantic's parser (pydantic is a
    dependency already) reads them in two thirds of the time ``json`` takes."""
    return from_json(response.content)


def _json(response: httpx.Response, what: str) -> Any:
    if not response.content.strip():
        return None
    try:
        return decode(response)
    except ValueError:
        raise ServerProtocolError(
            f"the server answered {what} with something that is not JSON (HTTP "
            f"{response.status_code}); is --tm-url the Zephyr server, e.g. "
            "https://ze.example.com?"
        ) from None


def _object(body: Any, what: str) -> dict[str, Any]:
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], dict):
        body = body[0]
    if not isinstance(body, dict):
        raise ServerProtocolError(f"unexpected {what} from the server: {str(body)[:200]}")
    return body


_JSON = {"Content-Type": "application/json"}  # docs/servers/zephyr.md §2 [DOC]: JSON bodies need it


class ZephyrApi:
    """One method per call the uploader makes; answers are plain dicts."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    # -- plumbing -----------------------------------------------------------------------
    def get(self, path: str, what: str, params: Mapping[str, str] | None = None) -> Any:
        return _json(self.http.request("GET", path, params=params), what)

    def write(
        self,
        method: str,
        path: str,
        what: str,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        *,
        allow: tuple[int, ...] = (),
    ) -> httpx.Response:
        """A JSON write. POST is not idempotent (a lost answer is never blindly repeated:
        docs/servers/zephyr.md §6 "No idempotency"); PUT overwrites and may be retried."""
        content = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        return self.http.request(
            method,
            path,
            params=params,
            content=content,
            headers=_JSON if content is not None else None,
            idempotent=method != "POST",
            ok=(200, 201, 204),
            allow=allow,
        )

    def paged(
        self, path: str, what: str, params: Mapping[str, str], page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every item over ``offset``/``pagesize`` pages (docs/servers/zephyr.md §2). ``resultSize``
        is taken as the total count: a server may answer fewer items than asked, so paging goes on
        until that many arrived or a page is empty; without it, until a short page."""
        offset = 0
        while True:
            body = self.get(
                path, what, {**params, "offset": str(offset), "pagesize": str(page_size)}
            )
            items = results(body, what)
            yield from items
            offset += len(items)
            total = as_id(body.get("resultSize")) if isinstance(body, dict) else None
            if not items or not isinstance(body, dict):
                return  # an empty page, or a bare array (not paged at all)
            if total is not None:
                if offset >= total:
                    return
            elif len(items) < page_size:
                return

    # -- who, where (docs/servers/zephyr.md §3, §5.1) ----------------------------------------------
    def current_user(self) -> dict[str, Any]:
        # The first call of every upload and check: a 404 here is the URL, not a name.
        response = self.http.request("GET", "user/current", probe=True)
        return _object(_json(response, "the current user"), "user")

    def projects(self, user_id: int) -> list[dict[str, Any]]:
        """docs/servers/zephyr.md §5.1: the projects of a user (the docs add
        ``isLite``/``adminUser``)."""
        params = {"isLite": "false", "adminUser": "false"}
        return results(self.get(f"project/user/{user_id}", "projects", params), "projects")

    def project(self, project_id: int) -> dict[str, Any] | None:
        response = self.http.request("GET", f"project/{project_id}", allow=(404, 400))
        if response.status_code != 200:
            return None
        return _object(_json(response, "project"), "project")

    def releases(self, project_id: int) -> list[dict[str, Any]]:
        return results(self.get(f"release/project/{project_id}", "releases"), "releases")

    def status_preference(self) -> Any:
        """docs/servers/zephyr.md §5.6:
        ``GET /admin/preference?key=testresult.testresultStatus.LOV``."""
        return self.get(
            "admin/preference", "the status list", {"key": "testresult.testresultStatus.LOV"}
        )

    # -- repository tree (docs/servers/zephyr.md §5.2) ---------------------------------------------
    def top_folders(self, release_id: int) -> list[dict[str, Any]]:
        params = {"type": "Phase", "revisionid": "0", "releaseid": str(release_id)}
        return results(self.get("testcasetree", "the repository tree", params), "tree")

    def folder(self, folder_id: int) -> dict[str, Any]:
        return _object(self.get(f"testcasetree/{folder_id}", "a tree node"), "tree node")

    def create_folder(
        self, release_id: int, parent_id: int, name: str, description: str
    ) -> dict[str, Any]:
        """docs/servers/zephyr.md §5.2 [DOC]: ``?parentid=0`` and ``Phase`` at the top, ``Module``
        below."""
        body = {
            "name": name,
            "description": description,
            "type": "Phase" if parent_id == 0 else "Module",
            "releaseId": release_id,
        }
        params = {"parentid": str(parent_id), "assignedusers": ""}
        response = self.write("POST", "testcasetree", "POST testcasetree", body, params)
        return _object(_json(response, "POST testcasetree"), "tree node")

    # -- test cases (docs/servers/zephyr.md §5.3) --------------------------------------------------
    def cases_in(self, folder_id: int) -> Iterator[dict[str, Any]]:
        params = {"dbsearch": "true", "isascorder": "true", "order": "orderId"}
        return self.paged(f"testcase/tree/{folder_id}", "test cases", params)

    def create_cases(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self.write("POST", "testcase/bulk", "POST testcase/bulk", items)
        body = _json(response, "POST testcase/bulk")
        return results(body, "created test cases") if body is not None else []

    def planned(self, tree_id: int) -> Iterator[dict[str, Any]]:
        """docs/servers/zephyr.md §5.5: ``testcase/planning/{treeId}`` ->
        ``{"results": [{"tct": {…}}]}``."""
        for item in self.paged(f"testcase/planning/{tree_id}", "planned test cases", {}):
            tct = item.get("tct")
            yield tct if isinstance(tct, dict) else item

    # -- cycles and phases (docs/servers/zephyr.md §5.4) -------------------------------------------
    def cycles(self, release_id: int) -> list[dict[str, Any]]:
        return results(self.get(f"cycle/release/{release_id}", "cycles"), "cycles")

    def cycle(self, cycle_id: int) -> dict[str, Any]:
        return _object(self.get(f"cycle/{cycle_id}", "a cycle"), "cycle")

    def create_cycle(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.write("POST", "cycle", "POST cycle", body)
        return _object(_json(response, "POST cycle"), "cycle")

    def create_phase(self, cycle_id: int, body: dict[str, Any]) -> dict[str, Any]:
        response = self.write("POST", f"cycle/{cycle_id}/phase", "POST phase", body)
        return _object(_json(response, "POST cycle phase"), "cycle phase")

    # -- executions (docs/servers/zephyr.md §5.5, §5.6) --------------------------------------------
    def add_by_tree(self, phase_id: int, tree_id: int, items: list[dict[str, Any]]) -> None:
        path = f"assignmenttree/{phase_id}/assign/bytree/{tree_id}"
        self.write("POST", path, "add to phase", items, {"includehierarchy": "false"})

    def assign_phase(self, phase_id: int) -> httpx.Response:
        """docs/servers/zephyr.md §5.5 step 2: an empty body assigns the whole phase to the
        caller."""
        return self.http.request(
            "POST",
            f"assignmenttree/{phase_id}/assign",
            idempotent=False,
            ok=(200, 201, 204),
            allow=(400, 404, 405, 501),
        )

    def modify(self, body: dict[str, Any]) -> httpx.Response:
        """docs/servers/zephyr.md §5.5 step 2: ``createRTSList`` -> the array of RTS made.
        404/405/501 are returned (a server without the call: the caller assigns the whole phase
        instead)."""
        return self.write(
            "POST", "execution/modify", "POST execution/modify", body, allow=(404, 405, 501)
        )

    def executions(self, phase_id: int) -> Iterator[dict[str, Any]]:
        return self.paged("execution", "executions", {"cyclephaseid": str(phase_id)})

    def execution(self, execution_id: int) -> dict[str, Any]:
        return _object(self.get(f"execution/{execution_id}", "an execution"), "execution")

    def bulk_execute(self, items: list[dict[str, Any]]) -> httpx.Response:
        """docs/servers/zephyr.md §5.6 way 3 [CLIENT]: not in the blueprint, so 404/405/501 are
        returned (the caller falls back to the documented calls)."""
        return self.write("PUT", "execution/bulk/execute", "execute", items, allow=(404, 405, 501))

    def bulk_status(self, status: str, tester_id: int, ids: list[int]) -> httpx.Response:
        """docs/servers/zephyr.md §5.6 way 2: one status for many executions (``serachView`` as the
        plugin spells it)."""
        params = {
            "status": status,
            "testerid": str(tester_id),
            "allExecutions": "false",
            "includeanyoneuser": "true",
        }
        return self.write(
            "PUT", "execution/bulk", "bulk status", {"ids": ids, "serachView": False}, params
        )

    def execute_one(
        self, execution_id: int, status: str, tester_id: int, notes: str, ms: int | None
    ) -> httpx.Response:
        """docs/servers/zephyr.md §5.6 way 1: PUT [BP] or POST [DOC] — which one is [UNCONFIRMED]:
        PUT first, POST on 405."""
        params = {
            "status": status,
            "testerid": str(tester_id),
            "allExecutions": "false",
            "includeanyoneuser": "true",
        }
        if ms is not None:
            params["time"] = str(ms)
        body = {"notes": notes}
        path = f"execution/{execution_id}"
        response = self.write("PUT", path, "execute one", body, params, allow=(405,))
        if response.status_code == 405:
            response = self.write("POST", path, "execute one", body, params)
        return response

    # -- defects (docs/servers/zephyr.md §5.8) -----------------------------------------------------
    def map_defect(self, body: dict[str, Any]) -> httpx.Response:
        """``POST /defectmapping/`` "Save defect schedule" [BP]; body [UNCONFIRMED]. The
        4xx answers are returned: the caller tells a shape refusal from an unknown key."""
        return self.write(
            "POST", "defectmapping/", "defect mapping", body, allow=(400, 404, 405, 415, 501)
        )


def answer_lost(exc: Exception) -> bool:
    """A POST whose fate is unknown: the connection broke after sending, or a 500/502/504
    came back (the client retries only 429/503 for a POST, which say "not processed").
    docs/servers/zephyr.md §6: creations are not idempotent — look before writing again."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, ServerUnavailable) and exc.status in (None, 500, 502, 504)
