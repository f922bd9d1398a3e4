"""The emulator as a WSGI application: paths, Basic auth, fault injection, inspection.

``Emulator`` is a stateful WSGI callable. It works in process
(``httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=...)``) and over a real socket
(:func:`~.server.serve_in_thread`). One ``threading.RLock`` guards all state.

Paths under the application path:

* ``/api/...``: the Enterprise Tester resources (routes.py), with Basic auth on every request
  and the configured faults and latency;
* ``/`` (and ``?run=<id>``): the HTML page (page.py), no auth, no faults;
* ``/_emulator/state|reset|faults|requests``: inspection and control, no auth, no faults;
* ``/_emulator/attachment/<id>``: the bytes of an attachment for the page (files.py), no auth,
  no faults (the API's own ``/api/attachment/<id>/contents`` needs auth and takes faults).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tmupload.emulation import abort_connection
from tmupload.emulation.faults import FaultInjector
from tmupload.emulation.wsgi import faults_fields, faults_json, query_first, read_body

from .config import EmulatorConfig, Faults
from .files import content_response
from .page import render_index, render_run
from .protocol import (
    ApiError,
    Request,
    Response,
    error_response,
    html_response,
    json_response,
    normalize_guid,
    reason,
)
from .routes import Api
from .snapshot import run_snapshot, snapshot
from .state import User

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["Emulator"]

logger = logging.getLogger("tmupload.targets.et.emulator")

#: ref §1.3 marks the 401 answer as an inference; the realm names the product.
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Enterprise Tester"'}


class Emulator:
    """An in-memory Enterprise Tester that speaks the API of ``reference/`` (a testing aid).

    >>> emu = Emulator()
    >>> # httpx.Client(transport=httpx.WSGITransport(app=emu),
    >>> #              base_url="http://et.test/EnterpriseTester", auth=("admin", "admin"))
    """

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self._lock = threading.RLock()
        #: ``(method, path without query, status)`` of every ``/api`` request, oldest first.
        #: Status 0 means the connection was reset without an answer.
        self.requests: list[tuple[str, str, int]] = []
        self._api = Api(self.config, self._lock)
        self._faults = FaultInjector(self.config.faults.copy(), self.config.seed)

    # -- control and inspection ----------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial state: entities, tasks, the request log and the faults."""
        with self._lock:
            self._api.reset()
            self._faults = FaultInjector(self.config.faults.copy(), self.config.seed)
            self.requests.clear()

    def configure_faults(self, **fields: Any) -> Faults:
        """Replace the fault profile with ``Faults(**fields)`` and re-seed the generator.

        Call without arguments to switch faults off. Returns a copy of the new profile.
        """
        faults = Faults(**fields)
        with self._lock:
            self._faults = FaultInjector(faults, self.config.seed)
            return faults.copy()

    @property
    def faults(self) -> Faults:
        """A copy of the current fault profile (``fail_next`` shows what is left)."""
        with self._lock:
            return self._faults.faults.copy()

    def snapshot(self) -> dict[str, Any]:
        """Everything the emulator holds, as JSON-ready data (see snapshot.py)."""
        with self._lock:
            state = self._api.state
            state.tick(time.time())
            return snapshot(state)

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, with totals and node trees."""
        with self._lock:
            state = self._api.state
            state.tick(time.time())
            runs = sorted(state.runs.values(), key=lambda r: r.imported_at)
            return [run_snapshot(state, run) for run in runs]

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        response = self._respond(environ)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(f"{response.status} {reason(response.status)}", headers)
        return [response.body]

    def _respond(self, environ: WSGIEnvironment) -> Response:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        app_path = self.config.app_path
        if path != app_path and not path.startswith(app_path + "/"):
            return error_response(404, f"No resource at {path}.")
        relative = path[len(app_path) :]
        lowered = relative.lower()
        if lowered == "/api" or lowered.startswith("/api/"):
            return self._api_request(environ, method, path, relative)
        body = read_body(environ)
        if relative in ("", "/"):
            return self._page(environ, method)
        if lowered.startswith("/_emulator/"):
            return self._control(method, lowered[len("/_emulator/") :].rstrip("/"), body)
        return error_response(404, f"No resource at {path}.")

    def _api_request(
        self, environ: WSGIEnvironment, method: str, path: str, relative: str
    ) -> Response:
        if self.config.latency:
            time.sleep(self.config.latency)
        with self._lock:
            decision = self._faults.decide(method)
            retry_after = self._faults.faults.retry_after
        if decision.reset:
            self._log(method, path, 0)
            abort_connection(environ)
        body = read_body(environ)  # read first: closing on unread data would reset
        if decision.slow:
            time.sleep(decision.slow)
        if decision.status is not None:
            self._log(method, path, decision.status)
            headers = {"Retry-After": str(retry_after)} if decision.status == 429 else None
            return error_response(
                decision.status, f"Injected fault: HTTP {decision.status}.", headers
            )
        request = Request(
            method=method,
            path=relative,
            query=query_first(environ),
            body=body,
            content_type=str(environ.get("CONTENT_TYPE", "")),
            root=_root_url(environ, self.config.app_path),
        )
        response = self._process(environ, request)
        if decision.drop_after_apply:
            self._log(method, path, 0)
            abort_connection(environ)
        self._log(method, path, response.status)
        return response

    def _process(self, environ: WSGIEnvironment, request: Request) -> Response:
        user = self._authenticate(environ)
        if user is None:
            return error_response(
                401, "Authorization has been denied for this request.", _CHALLENGE
            )
        request.login = user.login
        try:
            return self._api.dispatch(request, user)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except Exception as exc:  # a bug in the emulator: say so, keep serving
            logger.exception("emulator error on %s %s", request.method, request.path)
            return error_response(500, f"Emulator internal error: {exc!r}")

    def _authenticate(self, environ: WSGIEnvironment) -> User | None:
        """Basic auth (ref §2); anything missing or wrong is None (-> 401, ref §1.3)."""
        scheme, _, token = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        login, separator, password = decoded.partition(":")
        expected = self.config.users.get(login, self.config.readonly_users.get(login))
        if not separator or expected is None:
            return None
        if not hmac.compare_digest(expected.encode(), password.encode()):
            return None
        with self._lock:
            return self._api.state.users.get(login)

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    # -- page and control ----------------------------------------------------------------

    def _page(self, environ: WSGIEnvironment, method: str) -> Response:
        if method != "GET":
            return error_response(405, "The page only answers GET.", {"Allow": "GET"})
        run_id = query_first(environ).get("run", "")
        with self._lock:
            state = self._api.state
            state.tick(time.time())
            if not run_id:
                return html_response(200, render_index(state))
            run = state.runs.get(normalize_guid(run_id) or "")
            if run is None:
                return html_response(404, "<!DOCTYPE html><title>Not found</title>No such run.")
            return html_response(200, render_run(state, run))

    def _control(self, method: str, action: str, body: bytes) -> Response:
        if action.startswith("attachment/"):
            return self._attachment(method, action[len("attachment/") :])
        allowed = {"state": "GET", "requests": "GET", "reset": "POST", "faults": "GET, POST"}
        if action not in allowed:
            return error_response(404, f"No emulator control named '{action}'.")
        if method not in allowed[action].split(", "):
            return error_response(405, f"Use {allowed[action]}.", {"Allow": allowed[action]})
        if action == "state":
            return json_response(200, self.snapshot())
        if action == "requests":
            with self._lock:
                return json_response(200, [list(entry) for entry in self.requests])
        if action == "reset":
            self.reset()
            return json_response(200, {"Message": "The emulator was reset."})
        if method == "POST":
            return self._configure_faults_from(body)
        return json_response(200, faults_json(self.faults))

    def _attachment(self, method: str, attachment_id: str) -> Response:
        if method != "GET":
            return error_response(405, "Use GET.", {"Allow": "GET"})
        with self._lock:
            found = self._api.state.attachments.by_id.get(normalize_guid(attachment_id) or "")
        if found is None:
            return error_response(404, f"No attachment with id '{attachment_id}'.")
        return content_response(found, inline=True)

    def _configure_faults_from(self, body: bytes) -> Response:
        try:
            faults = self.configure_faults(**faults_fields(body))
        except (ValueError, TypeError) as exc:
            return error_response(400, f"Cannot configure faults: {exc}")
        return json_response(200, faults_json(faults))


def _root_url(environ: WSGIEnvironment, app_path: str) -> str:
    """``scheme://host`` of the request plus the application path (``Self`` URLs, ref §1.2)."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = str(environ.get("HTTP_HOST", ""))
    if not host:
        host = str(environ.get("SERVER_NAME", "localhost"))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}{app_path}"
