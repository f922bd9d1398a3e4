"""The emulator as a WSGI application: paths, auth, fault injection, inspection.

``Emulator`` is a stateful WSGI callable. It works in process
(``httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=...)``) and over a real
socket (:func:`~.server.serve_in_thread`). One ``threading.RLock`` guards all state.

Paths from the server root:

* ``/flex/services/rest/{latest|v3|v4}/...`` (ref §1) and ``/flex/upload/document/
  genericattachment`` (ref §4.7): the API, with auth on every request (ref §2) and the
  configured faults and latency;
* ``/`` (and ``?phase=<id>``): the HTML page, no auth, no faults;
* ``/_emulator/state|requests|reset|faults|strict`` and ``/_emulator/attachment/<id>``:
  inspection and control, no auth, no faults. ``GET /_emulator/strict`` answers
  ``{"strict": bool}``; ``POST`` it ``{"strict": true}`` to switch strict mode (see
  ``EmulatorConfig.strict``: ref §1's bound of 500 applied to what a call selects, §4.5).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from tmupload.emulation import FaultInjector, abort_connection
from tmupload.emulation.wsgi import (
    faults_fields,
    faults_json,
    query_first,
    read_body,
    strict_field,
)

from .auth import authenticate, basic_user, open_session
from .config import EmulatorConfig, Faults
from .page import render_index, render_phase
from .protocol import (
    ApiError,
    Request,
    Response,
    error_response,
    html_response,
    json_response,
    reason,
    unauthorized_response,
)
from .routes import UPLOAD_PATH, Api
from .snapshot import snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["REST_PREFIX", "Emulator"]

logger = logging.getLogger("tmupload.targets.zephyr.emulator")

#: ref §1: the REST base below the server root.
REST_PREFIX = "/flex/services/rest"
_REST = re.compile(r"/flex/services/rest/(latest|v3|v4)(/.*)?")


class Emulator:
    """An in-memory Zephyr Enterprise that speaks the API of ``reference/`` (a testing aid)."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self._lock = threading.RLock()
        #: ``(method, path without query, status)`` of every API request, oldest first.
        #: Status 0 means the connection was dropped without an answer.
        self.requests: list[tuple[str, str, int]] = []
        self._api = Api(self.config)
        self._faults = FaultInjector(self.config.faults.copy(), self.config.seed)

    # -- control and inspection ----------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial state: entities, sessions, the request log, the faults and
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
        """A copy of the current fault profile (``fail_next`` shows what is left)."""
        with self._lock:
            return self._faults.faults.copy()

    def snapshot(self) -> dict[str, Any]:
        """Everything that landed, as JSON-ready data (see snapshot.py for the shape)."""
        with self._lock:
            return snapshot(self._api.state)

    def attachment_content(self, attachment_id: int) -> tuple[str, str, bytes] | None:
        """``(name, content type, bytes)`` of a registered attachment, or None."""
        with self._lock:
            found = self._api.state.attachments.get(attachment_id)
            return None if found is None else (found.name, found.content_type, found.data)

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
        match = _REST.fullmatch(path)
        if match is not None:
            return self._api_request(environ, method, path, match.group(1), match.group(2) or "/")
        if path.rstrip("/") == UPLOAD_PATH:
            return self._api_request(environ, method, path, "upload", UPLOAD_PATH)
        body = read_body(environ)
        if path in ("", "/"):
            return self._page(environ, method)
        if path.startswith("/_emulator/"):
            return self._control(method, path[len("/_emulator/") :].rstrip("/"), body)
        return error_response(404, f"No resource at {path}.")

    def _api_request(
        self, environ: WSGIEnvironment, method: str, path: str, version: str, relative: str
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
        )
        response = self._process(environ, request, version)
        if decision.drop_after_apply:
            self._log(method, path, 0)
            abort_connection(environ)
        self._log(method, path, response.status)
        return response

    def _process(self, environ: WSGIEnvironment, request: Request, version: str) -> Response:
        with self._lock:
            state = self._api.state
            if version != "v4" and request.path.rstrip("/") == "/manifest":
                return self._manifest(environ, request)
            user = authenticate(self.config, state, environ)
            if user is None:
                return unauthorized_response(
                    "Authentication failed: invalid or missing credentials."
                )
            request.user_id = user.id
            try:
                return self._api.dispatch(request, user, version)
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.headers)
            except Exception as exc:  # a bug in the emulator: say so, keep serving
                logger.exception("emulator error on %s %s", request.method, request.path)
                return error_response(500, f"Emulator internal error: {exc!r}")

    def _manifest(self, environ: WSGIEnvironment, request: Request) -> Response:
        """Seed 003: ``GET …/manifest`` with Basic sets the ``token`` session cookie."""
        if request.method != "GET":
            return error_response(405, "Use GET.", {"Allow": "GET"})
        state = self._api.state
        user = basic_user(self.config, state, str(environ.get("HTTP_AUTHORIZATION", "")))
        if user is None:
            return unauthorized_response("Authentication failed: /manifest needs Basic auth.")
        cookie = open_session(self.config, state, user)
        # [inference] the body; the seed shows only the cookie
        return json_response(
            200, {"product": "Zephyr Enterprise (emulator)"}, {"Set-Cookie": cookie}
        )

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    # -- page and control ----------------------------------------------------------------

    def _page(self, environ: WSGIEnvironment, method: str) -> Response:
        if method != "GET":
            return error_response(405, "The page only answers GET.", {"Allow": "GET"})
        phase_id = query_first(environ).get("phase", "")
        with self._lock:
            state = self._api.state
            if not phase_id:
                return html_response(200, render_index(state))
            phase = state.phases.get(int(phase_id)) if phase_id.isdigit() else None
            if phase is None:
                return html_response(404, "<!DOCTYPE html><title>Not found</title>No such phase.")
            return html_response(200, render_phase(state, phase))

    def _control(self, method: str, action: str, body: bytes) -> Response:
        if action.startswith("attachment/"):
            return self._attachment(method, action[len("attachment/") :])
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

    def _attachment(self, method: str, raw_id: str) -> Response:
        if method != "GET":
            return error_response(405, "Use GET.", {"Allow": "GET"})
        found = self.attachment_content(int(raw_id)) if raw_id.isdigit() else None
        if found is None:
            return error_response(404, f"No attachment {raw_id}.")
        name, content_type, data = found
        safe = name.replace('"', "'").encode("ascii", "replace").decode("ascii")
        return Response(
            200,
            data,
            content_type or "application/octet-stream",
            [("Content-Disposition", f'inline; filename="{safe}"')],
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
