"""The WSGI application every emulator is: paths, fault injection, the request log, control.

:class:`EmulatorApp` is a stateful WSGI callable. It works in process
(``httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=...)``) and over a real socket
(:func:`~tmupload.emulation.server.serve_in_thread`). One ``threading.RLock`` guards all state.
A server's emulator subclasses it and brings what is its own: which paths are its API and how
one request is answered (:meth:`~EmulatorApp._api_route`), the page, the snapshot, the
attachment bytes. The shell brings the rest:

* API requests get the configured ``latency`` and faults, and land in :attr:`requests`;
* ``/`` is the HTML page, no auth, no faults (a 405 for anything but GET);
* ``/_emulator/state|requests|reset|faults`` (and ``strict`` where the server has a strict
  mode) and ``/_emulator/<attachments>/<id>``: inspection and control, no auth, no faults.
  ``GET /_emulator/strict`` answers ``{"strict": bool}``; ``POST`` it ``{"strict": true}``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from . import server as _server
from .clock import Clock
from .faults import FaultInjector, Faults
from .protocol import ApiError, Response, Wire, reason
from .server import abort_connection
from .wsgi import faults_fields, faults_json, read_limited, root_url, strict_field

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["ApiCall", "Backend", "EmulatorApp", "ShellConfig", "not_found_page"]

logger = logging.getLogger("tmupload.emulation")

#: One API request's answer, given its body and the size of a body over the limit (else 0).
ApiCall = Callable[["WSGIEnvironment", bytes, int], Response]

_SHARED_CONTROLS = {"state": "GET", "requests": "GET", "reset": "POST", "faults": "GET, POST"}


class ShellConfig(Protocol):
    """What the shell reads from every emulator's ``EmulatorConfig``."""

    latency: float
    faults: Faults
    seed: int
    clock: Clock


class Backend(Protocol):
    """An emulator's API resources over its state (its ``Api``)."""

    strict: bool

    def reset(self) -> None: ...


ConfigT = TypeVar("ConfigT", bound=ShellConfig)
BackendT = TypeVar("BackendT", bound=Backend)


class EmulatorApp(Generic[ConfigT, BackendT]):
    """The shell of a server emulator (see the module docstring)."""

    #: How the server writes JSON answers and error bodies.
    wire: ClassVar[Wire]
    #: The ``EmulatorConfig`` of an emulator made without one.
    config_type: ClassVar[type[Any]]
    #: Whether the server has a strict mode (``EmulatorConfig.strict``, ``/_emulator/strict``).
    has_strict: ClassVar[bool] = False
    #: The control path before an attachment id (``/_emulator/attachment/<id>``).
    attachment_control: ClassVar[str] = "attachment/"
    #: Whether ``/_emulator/...`` matches in any case (Enterprise Tester's paths do).
    paths_ignore_case: ClassVar[bool] = False
    #: What the control answers once the emulator was reset.
    reset_message: ClassVar[str] = "The emulator was reset."

    def __init__(self, config: ConfigT | None = None) -> None:
        self.config: ConfigT = config if config is not None else self.config_type()
        self.clock: Clock = self.config.clock
        self._lock = threading.RLock()
        #: ``(method, path without query, status)`` of every API request, oldest first.
        #: Status 0 means the connection was dropped without an answer.
        self.requests: list[tuple[str, str, int]] = []
        self._api: BackendT = self._new_backend()
        self._faults = FaultInjector(self.config.faults.copy(), self.config.seed)

    # -- what a server's emulator brings -------------------------------------------------

    def _new_backend(self) -> BackendT:
        """The API resources over a fresh state (``self._lock`` exists already)."""
        raise NotImplementedError

    def _api_route(self, path: str) -> ApiCall | None:
        """How to answer an API request to ``path`` (below :attr:`app_path`); None: not API."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        """Everything the emulator holds, as JSON-ready data."""
        raise NotImplementedError

    def _render_page(self, environ: WSGIEnvironment) -> Response:
        """The HTML page of ``GET /`` (called under the lock)."""
        raise NotImplementedError

    def _attachment(self, raw_id: str) -> Response:
        """``GET /_emulator/<attachment_control><raw_id>``: the bytes, or a 404."""
        raise NotImplementedError

    def _body_limit(self) -> int | None:
        """The largest request body the server reads (None: any)."""
        return None

    @property
    def app_path(self) -> str:
        """The path every route lives under ("" for a server at the root)."""
        return ""

    # -- control and inspection ----------------------------------------------------------

    def reset(self) -> None:
        """Back to the initial state: entities, the request log, the faults and strict mode
        (as configured)."""
        with self._lock:
            self._api.reset()
            self._api.strict = bool(getattr(self.config, "strict", False))
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

    # -- serving -------------------------------------------------------------------------

    @classmethod
    def run_forever(
        cls,
        config: ConfigT | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        on_ready: Callable[[str], None] | None = None,
    ) -> None:
        """Serve a new emulator in the foreground until interrupted (``tmupload emulator``)."""
        emulator = cls(config)
        _server.run_forever(emulator, host, port, on_ready)

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
        app_path = self.app_path
        if path != app_path and not path.startswith(app_path + "/"):
            return self.wire.error(404, f"No resource at {path}.")
        local = path[len(app_path) :]
        call = self._api_route(local)
        if call is not None:
            return self._api_request(environ, method, path, call)
        body, _ = read_limited(environ, self._body_limit())
        if local in ("", "/"):
            return self._page(environ, method)
        control = local.lower() if self.paths_ignore_case else local
        if control.startswith("/_emulator/"):
            return self._control(method, control[len("/_emulator/") :].rstrip("/"), body)
        return self.wire.error(404, f"No resource at {path}.")

    def _api_request(
        self, environ: WSGIEnvironment, method: str, path: str, call: ApiCall
    ) -> Response:
        if self.config.latency:
            self.clock.sleep(self.config.latency)
        with self._lock:
            decision = self._faults.decide(method)
            retry_after = self._faults.faults.retry_after
        if decision.reset:
            self._log(method, path, 0)
            abort_connection(environ)
        # read first: closing on unread data would reset the connection
        body, too_large = read_limited(environ, self._body_limit())
        if decision.slow:
            self.clock.sleep(decision.slow)
        if decision.status is not None:
            self._log(method, path, decision.status)
            headers = {"Retry-After": str(retry_after)} if decision.status == 429 else None
            return self.wire.error(
                decision.status, f"Injected fault: HTTP {decision.status}.", headers
            )
        try:
            response = call(environ, body, too_large)
        except ApiError as exc:
            response = self._api_error(exc)
        except Exception as exc:  # a bug in the emulator: say so, keep serving
            logger.exception("emulator error on %s %s", method, path)
            response = self.wire.error(500, f"Emulator internal error: {exc!r}")
        if decision.drop_after_apply:
            self._log(method, path, 0)
            abort_connection(environ)
        self._log(method, path, response.status)
        return response

    def _request_fields(self, environ: WSGIEnvironment, body: bytes) -> dict[str, Any]:
        """The fields every server's ``Request`` takes from the environ (all but path and
        query): ``Request(path=..., query=..., **self._request_fields(environ, body))``."""
        return {
            "method": str(environ.get("REQUEST_METHOD", "GET")).upper(),
            "body": body,
            "content_type": str(environ.get("CONTENT_TYPE", "")),
            "root": root_url(environ, self.app_path),
        }

    def _api_error(self, error: ApiError) -> Response:
        """The answer of an :class:`ApiError` a handler raised."""
        return self.wire.error(error.status, error.message, error.headers)

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))

    # -- page and control ----------------------------------------------------------------

    def _page(self, environ: WSGIEnvironment, method: str) -> Response:
        if method != "GET":
            return self.wire.error(405, "The page only answers GET.", {"Allow": "GET"})
        with self._lock:
            return self._render_page(environ)

    def _control(self, method: str, action: str, body: bytes) -> Response:
        if action.startswith(self.attachment_control):
            if method != "GET":
                return self.wire.error(405, "Use GET.", {"Allow": "GET"})
            return self._attachment(action[len(self.attachment_control) :])
        allowed = dict(_SHARED_CONTROLS, **({"strict": "GET, POST"} if self.has_strict else {}))
        if action not in allowed:
            return self.wire.error(404, f"No emulator control named '{action}'.")
        if method not in allowed[action].split(", "):
            return self.wire.error(405, f"Use {allowed[action]}.", {"Allow": allowed[action]})
        if action == "state":
            return self.wire.json(200, self.snapshot())
        if action == "requests":
            with self._lock:
                return self.wire.json(200, [list(entry) for entry in self.requests])
        if action == "reset":
            self.reset()
            return self.wire.message(200, self.reset_message)
        if action == "strict":
            return self._strict_from(method, body)
        if method == "POST":
            return self._configure_faults_from(body)
        return self.wire.json(200, faults_json(self.faults))

    def _strict_from(self, method: str, body: bytes) -> Response:
        if method == "POST":
            try:
                self.configure_strict(strict_field(body))
            except (ValueError, TypeError) as exc:
                return self.wire.error(400, f"Cannot switch strict mode: {exc}")
        return self.wire.json(200, {"strict": self.strict})

    def _configure_faults_from(self, body: bytes) -> Response:
        try:
            faults = self.configure_faults(**faults_fields(body))
        except (ValueError, TypeError) as exc:
            return self.wire.error(400, f"Cannot configure faults: {exc}")
        return self.wire.json(200, faults_json(faults))


def not_found_page(what: str) -> Response:
    """The page's 404 for an id it does not know (``what``: "run", "phase" ...)."""
    return Wire.html(404, f"<!DOCTYPE html><title>Not found</title>No such {what}.")
