"""The emulator as a WSGI application: its paths, auth, body limit, the page and the snapshot.

The shell (``tmupload.emulation.app``) brings faults, the request log and the
``/_emulator/state|requests|reset|faults|strict`` controls (strict mode: see
``EmulatorConfig.strict``: runs without Automation Content, docs/servers/qtest.md §7.4, §8; minimal
job ``content``, docs/servers/qtest.md §5). The qTest site has no application path
(docs/servers/qtest.md §2: paths are relative to the site URL).

* ``/api/...``: the qTest resources (routes.py), Bearer auth on every request
  (docs/servers/qtest.md §3);
* ``/oauth/token`` and ``/oauth/status`` (docs/servers/qtest.md §3.2, §3.3);
* both with the configured latency and faults, and a 413 for a body over ``max_body_bytes``;
* ``/`` (and ``?run=<id>``): the HTML page (page.py), no auth, no faults;
* ``/_emulator/attachments/<id>``: the bytes of an attachment, no auth, no faults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from tmupload.emulation import server as _server
from tmupload.emulation.app import ApiCall, EmulatorApp, not_found_page

from .auth import authenticate, post_token, token_status
from .config import EmulatorConfig
from .page import render_index, render_run
from .protocol import (
    WIRE,
    ApiError,
    Request,
    Response,
    file_response,
    html_response,
)
from .routes import Api
from .snapshot import snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["Emulator", "EmulatorServer", "run_forever"]

#: [inference] RFC 6750's challenge on a 401 (the reference gives none).
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="qTest"'}


class Emulator(EmulatorApp[EmulatorConfig, Api]):
    """An in-memory qTest Manager site that speaks the API of ``docs/servers/`` (a testing aid)."""

    wire = WIRE
    config_type = EmulatorConfig
    has_strict = True
    attachment_control = "attachments/"

    def _new_backend(self) -> Api:
        return Api(self.config, self._lock)

    def _body_limit(self) -> int:
        return self.config.max_body_bytes

    def snapshot(self) -> dict[str, Any]:
        """Everything that landed, as JSON-ready data (see snapshot.py); due jobs land first."""
        with self._lock:
            now = self.clock.time()
            self._api.tick(now)
            return snapshot(self._api.state, now)

    # -- the API ---------------------------------------------------------------------------

    def _api_route(self, path: str) -> ApiCall | None:
        if not path.startswith(("/api/", "/oauth/")):
            return None

        def call(environ: WSGIEnvironment, body: bytes, too_large: int) -> Response:
            fields = self._request_fields(environ, body)
            request = Request(path=path, query=_query(environ), **fields)
            with self._lock:
                return self._process(request, str(environ.get("HTTP_AUTHORIZATION", "")), too_large)

        return call

    def _process(self, request: Request, header: str, too_large: int) -> Response:
        now = self.clock.time()
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
            # docs/servers/qtest.md §4.4: 413 on the submission endpoints; the limit is
            # [UNCONFIRMED]
            raise ApiError(
                413,
                f"Request entity too large: {too_large} bytes, the limit is "
                f"{self.config.max_body_bytes} bytes.",
            )
        return self._api.dispatch(request, user)

    def _api_error(self, error: ApiError) -> Response:
        headers = {**_CHALLENGE, **error.headers} if error.status == 401 else error.headers
        return self.wire.error(error.status, error.message, headers)

    # -- page and attachment bytes ---------------------------------------------------------

    def _render_page(self, environ: WSGIEnvironment) -> Response:
        run_id = (_query(environ).get("run") or [""])[0]
        now = self.clock.time()
        self._api.tick(now)
        state = self._api.state
        if not run_id:
            return html_response(200, render_index(state, now))
        run = state.runs.get(int(run_id)) if run_id.isdigit() else None
        if run is None:
            return not_found_page("run")
        return html_response(200, render_run(state, run))

    def _attachment(self, raw_id: str) -> Response:
        with self._lock:
            found = self._api.state.attachments.get(int(raw_id) if raw_id.isdigit() else -1)
        if found is None:
            return self.wire.error(404, f"No attachment {raw_id}.")
        return file_response(found.name, found.content_type, found.data, "inline")


def _query(environ: WSGIEnvironment) -> dict[str, list[str]]:
    return parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


#: An emulator served on a socket (``serve_in_thread``'s answer; a context manager).
EmulatorServer = _server.EmulatorServer[Emulator]
#: Serve a new emulator in the foreground until interrupted (``tmupload emulator``).
run_forever = Emulator.run_forever
