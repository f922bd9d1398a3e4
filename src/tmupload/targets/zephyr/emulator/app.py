"""The emulator as a WSGI application: its paths, auth, the page and the snapshot.

The shell (``tmupload.emulation.app``) brings faults, the request log and the
``/_emulator/state|requests|reset|faults|strict`` controls (strict mode: see
``EmulatorConfig.strict``: docs/servers/zephyr.md §2's bound of 500 applied to what a call selects,
docs/servers/zephyr.md §5.5). Paths from the server root:

* ``/flex/services/rest/{latest|v3|v4}/...`` (docs/servers/zephyr.md §2) and
  ``/flex/upload/document/ genericattachment`` (docs/servers/zephyr.md §5.7): the API, with auth on
  every request (docs/servers/zephyr.md §3) and the configured faults and latency;
* ``/`` (and ``?phase=<id>``): the HTML page, no auth, no faults;
* ``/_emulator/attachment/<id>``: the bytes of an attachment, no auth, no faults.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from tmupload.emulation import server as _server
from tmupload.emulation.app import ApiCall, EmulatorApp, not_found_page
from tmupload.emulation.wsgi import query_first

from .auth import authenticate, basic_user, open_session
from .config import EmulatorConfig
from .page import render_index, render_phase
from .protocol import WIRE, Request, Response, html_response, unauthorized_response
from .routes import UPLOAD_PATH, Api
from .snapshot import snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["REST_PREFIX", "Emulator", "EmulatorServer", "run_forever"]

#: docs/servers/zephyr.md §2: the REST base below the server root.
REST_PREFIX = "/flex/services/rest"
_REST = re.compile(r"/flex/services/rest/(latest|v3|v4)(/.*)?")


class Emulator(EmulatorApp[EmulatorConfig, Api]):
    """An in-memory Zephyr Enterprise that speaks the API of ``docs/servers/`` (a testing aid)."""

    wire = WIRE
    config_type = EmulatorConfig
    has_strict = True

    def _new_backend(self) -> Api:
        return Api(self.config)

    def snapshot(self) -> dict[str, Any]:
        """Everything that landed, as JSON-ready data (see snapshot.py for the shape)."""
        with self._lock:
            return snapshot(self._api.state)

    def attachment_content(self, attachment_id: int) -> tuple[str, str, bytes] | None:
        """``(name, content type, bytes)`` of a registered attachment, or None."""
        with self._lock:
            found = self._api.state.attachments.get(attachment_id)
            return None if found is None else (found.name, found.content_type, found.data)

    # -- the API ---------------------------------------------------------------------------

    def _api_route(self, path: str) -> ApiCall | None:
        match = _REST.fullmatch(path)
        if match is not None:
            version, relative = match.group(1), match.group(2) or "/"
        elif path.rstrip("/") == UPLOAD_PATH:
            version, relative = "upload", UPLOAD_PATH
        else:
            return None

        def call(environ: WSGIEnvironment, body: bytes, too_large: int) -> Response:
            fields = self._request_fields(environ, body)
            request = Request(path=relative, query=query_first(environ), **fields)
            with self._lock:
                return self._process(environ, request, version)

        return call

    def _process(self, environ: WSGIEnvironment, request: Request, version: str) -> Response:
        state = self._api.state
        if version != "v4" and request.path.rstrip("/") == "/manifest":
            return self._manifest(environ, request)
        user = authenticate(self.config, state, environ)
        if user is None:
            return unauthorized_response("Authentication failed: invalid or missing credentials.")
        request.user_id = user.id
        return self._api.dispatch(request, user, version)

    def _manifest(self, environ: WSGIEnvironment, request: Request) -> Response:
        """docs/servers/zephyr.md §3: ``GET …/manifest`` with Basic sets the session cookie."""
        if request.method != "GET":
            return self.wire.error(405, "Use GET.", {"Allow": "GET"})
        state = self._api.state
        user = basic_user(self.config, state, str(environ.get("HTTP_AUTHORIZATION", "")))
        if user is None:
            return unauthorized_response("Authentication failed: /manifest needs Basic auth.")
        cookie = open_session(self.config, state, user)
        # [inference] the body; the overview page shows only the cookie
        return self.wire.json(
            200, {"product": "Zephyr Enterprise (emulator)"}, {"Set-Cookie": cookie}
        )

    # -- page and attachment bytes ---------------------------------------------------------

    def _render_page(self, environ: WSGIEnvironment) -> Response:
        phase_id = query_first(environ).get("phase", "")
        state = self._api.state
        if not phase_id:
            return html_response(200, render_index(state))
        phase = state.phases.get(int(phase_id)) if phase_id.isdigit() else None
        if phase is None:
            return not_found_page("phase")
        return html_response(200, render_phase(state, phase))

    def _attachment(self, raw_id: str) -> Response:
        found = self.attachment_content(int(raw_id)) if raw_id.isdigit() else None
        if found is None:
            return self.wire.error(404, f"No attachment {raw_id}.")
        name, content_type, data = found
        safe = name.replace('"', "'").encode("ascii", "replace").decode("ascii")
        return Response(
            200,
            data,
            content_type or "application/octet-stream",
            [("Content-Disposition", f'inline; filename="{safe}"')],
        )


#: An emulator served on a socket (``serve_in_thread``'s answer; a context manager).
EmulatorServer = _server.EmulatorServer[Emulator]
#: Serve a new emulator in the foreground until interrupted (``tmupload emulator``).
run_forever = Emulator.run_forever
