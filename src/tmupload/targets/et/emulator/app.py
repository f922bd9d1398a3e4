"""The emulator as a WSGI application: its paths, Basic auth, the page and the snapshot.

The shell (``tmupload.emulation.app``) brings faults, the request log and the
``/_emulator/state|reset|faults|requests`` controls. Paths under the application path:

* ``/api/...``: the Enterprise Tester resources (routes.py), with Basic auth on every request
  and the configured faults and latency;
* ``/`` (and ``?run=<id>``): the HTML page (page.py), no auth, no faults;
* ``/_emulator/attachment/<id>``: the bytes of an attachment for the page (files.py), no auth,
  no faults (the API's own ``/api/attachment/<id>/contents`` needs auth and takes faults).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import TYPE_CHECKING, Any

from tmupload.emulation import server as _server
from tmupload.emulation.app import ApiCall, EmulatorApp, not_found_page
from tmupload.emulation.wsgi import query_first

from .config import EmulatorConfig
from .entities import User
from .files import content_response
from .page import render_index, render_run
from .protocol import WIRE, Request, Response, html_response, normalize_guid
from .routes import Api
from .snapshot import run_snapshot, snapshot

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

__all__ = ["Emulator", "EmulatorServer", "run_forever"]

#: docs/servers/et.md §2.3 marks the 401 answer as an inference; the realm names the product.
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="Enterprise Tester"'}


class Emulator(EmulatorApp[EmulatorConfig, Api]):
    """An in-memory Enterprise Tester that speaks the API of ``docs/servers/`` (a testing aid).

    >>> emu = Emulator()
    >>> # httpx.Client(transport=httpx.WSGITransport(app=emu),
    >>> #              base_url="http://et.test/EnterpriseTester", auth=("admin", "admin"))
    """

    wire = WIRE
    config_type = EmulatorConfig
    paths_ignore_case = True  # docs/servers/et.md §2.1 notes a sample request with ``api/Project``

    def _new_backend(self) -> Api:
        return Api(self.config, self._lock)

    @property
    def app_path(self) -> str:
        return self.config.app_path

    def snapshot(self) -> dict[str, Any]:
        """Everything the emulator holds, as JSON-ready data (see snapshot.py)."""
        with self._lock:
            state = self._api.state
            state.tick(self.clock.time())
            return snapshot(state)

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, with totals and node trees."""
        with self._lock:
            state = self._api.state
            state.tick(self.clock.time())
            runs = sorted(state.runs.values(), key=lambda r: r.imported_at)
            return [run_snapshot(state, run) for run in runs]

    # -- the API ---------------------------------------------------------------------------

    def _api_route(self, path: str) -> ApiCall | None:
        lowered = path.lower()
        if lowered != "/api" and not lowered.startswith("/api/"):
            return None

        def call(environ: WSGIEnvironment, body: bytes, too_large: int) -> Response:
            fields = self._request_fields(environ, body)
            request = Request(path=path, query=query_first(environ), **fields)
            user = self._authenticate(environ)
            if user is None:
                message = "Authorization has been denied for this request."
                return self.wire.error(401, message, _CHALLENGE)
            request.login = user.login
            return self._api.dispatch(request, user)

        return call

    def _authenticate(self, environ: WSGIEnvironment) -> User | None:
        """Basic auth (docs/servers/et.md §3.1); anything missing or wrong is None (-> 401,
        docs/servers/et.md §2.3)."""
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

    # -- page and attachment bytes ---------------------------------------------------------

    def _render_page(self, environ: WSGIEnvironment) -> Response:
        run_id = query_first(environ).get("run", "")
        state = self._api.state
        state.tick(self.clock.time())
        if not run_id:
            return html_response(200, render_index(state))
        run = state.runs.get(normalize_guid(run_id) or "")
        if run is None:
            return not_found_page("run")
        return html_response(200, render_run(state, run))

    def _attachment(self, raw_id: str) -> Response:
        with self._lock:
            found = self._api.state.attachments.by_id.get(normalize_guid(raw_id) or "")
        if found is None:
            return self.wire.error(404, f"No attachment with id '{raw_id}'.")
        return content_response(found, inline=True)


#: An emulator served on a socket (``serve_in_thread``'s answer; a context manager).
EmulatorServer = _server.EmulatorServer[Emulator]
#: Serve a new emulator in the foreground until interrupted (``tmupload emulator``).
run_forever = Emulator.run_forever
