"""The emulator as a WSGI application: paths, auth, body limit, fault injection, inspection.

``Emulator`` is a stateful WSGI callable. It works in process
(``httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=...)``) and over a real socket
(:func:`~.server.serve_in_thread`). One ``threading.RLock`` guards all state. The qTest site
has no application path (ref §1: paths are relative to the site URL).

* ``/api/...``: the qTest resources (routes.py), Bearer auth on every request (ref §2);
* ``/oauth/token`` and ``/oauth/status`` (ref §2.2, §2.3);
* both with the configured latency and faults, and a 413 for a body over ``max_body_bytes``;
* ``/`` (and ``?run=<id>``): the HTML page (page.py), no auth, no faults;
* ``/_emulator/state|requests|reset|faults|strict`` and ``/_emulator/attachments/<id>``:
  inspection and control, no auth, no faults. ``GET /_emulator/strict`` answers
  ``{"strict": bool}``; ``POST`` it ``{"strict": true}`` to switch strict mode (see
  ``EmulatorConfig.strict``: runs without Automation Content, ref §6.4, §7; minimal job
  ``content``, ref §4).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tmupload.emulation import FaultInjector, abort_connection
from tmupload.emulation.wsgi import faults_fields, faults_json, strict_field

from .auth import authenticate, post_token, token_status
from .config import EmulatorConfig, Faults
from .page import render_index, render_run
from .protocol import (
    ApiError,
    Request,
    Response,
    error_response,
    header_safe,
    html_response,
    json_response,
    reason,
    safe_content_type,
)
from .routes import Api
from .snapshot import snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["Emulator"]

logger = logging.getLogger("tmupload.targets.qtest.emulator")

#: [inference] RFC 6750's challenge on a 401 (the reference gives none).
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="qTest"'}
_CHUNK = 64 * 1024


class Emulator:
    """An in-memory qTest Manager site that speaks the API of ``reference/`` (a testing aid)."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self._lock = threading.RLock()
        #: ``(method, path without query, status)`` of every ``/api`` and ``/oauth`` request,
        #: oldest first. Status 0: the connection was dropped without an answer.
        self.requests: list[tuple[str, str, int]] = []
        self._api = Api(self.config, self._lock)
        self._faults = FaultInjector(self.config.faults.copy(), self.config.seed)

    # -- control and inspection ----------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial state: entities, tokens, jobs, the request log, the faults and
        strict mode (as configured)."""
        with self._lock:
            self._api.reset()
            self._api.strict = self.config.strict
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

    def configure_strict(self, strict: bool) -> bool:
        """Switch strict mode (``EmulatorConfig.strict``) on or off; returns the new value."""
        with self._lock:
            self._api.strict = bool(strict)
            return self._api.strict

    @property
    def strict(self) -> bool:
        """Whether strict mode is on now."""
        with self._lock:
            return self._api.strict

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults.faults.copy()

    def snapshot(self) -> dict[str, Any]:
        """Everything that landed, as JSON-ready data (see snapshot.py); due jobs land first."""
        with self._lock:
            now = time.time()
            self._api.tick(now)
            return snapshot(self._api.state, now)

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
        if path.startswith(("/api/", "/oauth/")):
            return self._api_request(environ, method, path)
        body, _ = _read_body(environ, self.config.max_body_bytes)
        if path in ("", "/"):
            return self._page(environ, method)
        if path.startswith("/_emulator/"):
            return self._control(method, path[len("/_emulator/") :].rstrip("/"), body)
        return error_response(404, f"No resource at {path}.")

    def _api_request(self, environ: WSGIEnvironment, method: str, path: str) -> Response:
        if self.config.latency:
            time.sleep(self.config.latency)
        with self._lock:
            decision = self._faults.decide(method)
            retry_after = self._faults.faults.retry_after
        if decision.reset:
            self._log(method, path, 0)
            abort_connection(environ)
        # read first: closing on unread data would reset the connection
        body, too_large = _read_body(environ, self.config.max_body_bytes)
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
            path=path,
            query=_query(environ),
            body=body,
            content_type=str(environ.get("CONTENT_TYPE", "")),
            root=_root_url(environ),
        )
        response = self._process(environ, request, too_large)
        if decision.drop_after_apply:
            self._log(method, path, 0)
            abort_connection(environ)
        self._log(method, path, response.status)
        return response

    def _process(self, environ: WSGIEnvironment, request: Request, too_large: int) -> Response:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        try:
            with self._lock:
                now = time.time()
                self._api.tick(now)
                state = self._api.state
                if request.path.rstrip("/") == "/oauth/token":
                    if request.method != "POST":
                        raise ApiError(405, "Use POST /oauth/token.", {"Allow": "POST"})
                    return post_token(state, request, header, now)
                if request.path.rstrip("/") == "/oauth/status":
                    if request.method != "GET":
                        raise ApiError(405, "Use GET /oauth/status.", {"Allow": "GET"})
                    return token_status(state, header, now)
                if not request.path.startswith("/api/"):
                    raise ApiError(404, f"No resource at {request.path}.")
                user = authenticate(state, header, now)
                request.login = user.login
                if too_large:
                    # ref §3.7: 413 on the submission endpoints; the limit is [UNCONFIRMED]
                    raise ApiError(
                        413,
                        f"Request entity too large: {too_large} bytes, the limit is "
                        f"{self.config.max_body_bytes} bytes.",
                    )
                return self._api.dispatch(request, user)
        except ApiError as exc:
            headers = {**_CHALLENGE, **exc.headers} if exc.status == 401 else exc.headers
            return error_response(exc.status, exc.message, headers)
        except Exception as exc:  # a bug in the emulator: say so, keep serving
            logger.exception("emulator error on %s %s", request.method, request.path)
            return error_response(500, f"Emulator internal error: {exc!r}")

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    # -- page and control ----------------------------------------------------------------

    def _page(self, environ: WSGIEnvironment, method: str) -> Response:
        if method != "GET":
            return error_response(405, "The page only answers GET.", {"Allow": "GET"})
        run_id = (_query(environ).get("run") or [""])[0]
        with self._lock:
            now = time.time()
            self._api.tick(now)
            state = self._api.state
            if not run_id:
                return html_response(200, render_index(state, now))
            run = state.runs.get(int(run_id)) if run_id.isdigit() else None
            if run is None:
                return html_response(404, "<!DOCTYPE html><title>Not found</title>No such run.")
            return html_response(200, render_run(state, run))

    def _control(self, method: str, action: str, body: bytes) -> Response:
        if action.startswith("attachments/"):
            return self._attachment(method, action[len("attachments/") :])
        allowed = {
            "state": "GET",
            "requests": "GET",
            "reset": "POST",
            "faults": "GET, POST",
            "strict": "GET, POST",
        }
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
            return json_response(200, {"message": "The emulator was reset."})
        if action == "strict":
            return self._strict_from(method, body)
        if method == "POST":
            return self._configure_faults_from(body)
        return json_response(200, faults_json(self.faults))

    def _attachment(self, method: str, attachment_id: str) -> Response:
        if method != "GET":
            return error_response(405, "Use GET.", {"Allow": "GET"})
        with self._lock:
            found = self._api.state.attachments.get(
                int(attachment_id) if attachment_id.isdigit() else -1
            )
        if found is None:
            return error_response(404, f"No attachment {attachment_id}.")
        disposition = f'inline; filename="{header_safe(found.name)}"'
        return Response(
            200,
            found.data,
            safe_content_type(found.content_type),
            [("Content-Disposition", disposition)],
        )

    def _strict_from(self, method: str, body: bytes) -> Response:
        if method == "POST":
            try:
                self.configure_strict(strict_field(body))
            except (ValueError, TypeError) as exc:
                return error_response(400, f"Cannot switch strict mode: {exc}")
        return json_response(200, {"strict": self.strict})

    def _configure_faults_from(self, body: bytes) -> Response:
        try:
            faults = self.configure_faults(**faults_fields(body))
        except (ValueError, TypeError) as exc:
            return error_response(400, f"Cannot configure faults: {exc}")
        return json_response(200, faults_json(faults))


def _read_body(environ: WSGIEnvironment, limit: int) -> tuple[bytes, int]:
    """The body, or ``(b"", length)`` when it is longer than ``limit`` (read and dropped)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b"", 0
    stream = environ["wsgi.input"]
    if length <= limit:
        data: bytes = stream.read(length)
        return data, 0
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
    return b"", length


def _query(environ: WSGIEnvironment) -> dict[str, list[str]]:
    return parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


def _root_url(environ: WSGIEnvironment) -> str:
    """``scheme://host`` of the request: the prefix of ``web_url`` and ``links``."""
    scheme = str(environ.get("wsgi.url_scheme", "http"))
    host = str(environ.get("HTTP_HOST", ""))
    if not host:
        host = str(environ.get("SERVER_NAME", "localhost"))
        port = str(environ.get("SERVER_PORT", ""))
        if port and port != {"http": "80", "https": "443"}.get(scheme):
            host = f"{host}:{port}"
    return f"{scheme}://{host}"
