"""The smallest emulator the shell allows: a sketch server that keeps notes (``/api/notes``).

What a new target's emulator has to write itself is all here: its config, its state and
routes, how a request is authenticated and answered, its page. Faults, latency, the request
log, the ``/_emulator`` controls and serving come from ``tmupload.emulation``.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tmupload.emulation.app import ApiCall, EmulatorApp
from tmupload.emulation.config import EmulatorBasics
from tmupload.emulation.page import html_page
from tmupload.emulation.protocol import Request, Response, Wire
from tmupload.emulation.routing import RouteTable, Wording
from tmupload.emulation.wsgi import query_first

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

WIRE = Wire("application/json", lambda status, message: {"error": message})


@dataclass
class SketchConfig(EmulatorBasics):
    strict: bool = False


@dataclass
class SketchRequest(Request):
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SketchUser:
    login: str
    readonly: bool


class SketchApi:
    def __init__(self, config: SketchConfig) -> None:
        self.config = config
        self.strict = config.strict
        self.notes: list[dict[str, Any]] = []
        wording = Wording("No resource at {path}.", "No {method} on {path}.", "{login} reads only.")
        self.routes = RouteTable(
            [(r"/api/notes", {"GET": self.get_notes, "POST": self.post_note})], wording
        )

    def reset(self) -> None:
        self.notes = []

    def get_notes(self, request: SketchRequest) -> Response:
        return WIRE.json(200, self.notes)

    def post_note(self, request: SketchRequest) -> Response:
        note = {"id": len(self.notes) + 1, **request.json_object()}
        note["at"] = self.config.clock.time()
        self.notes.append(note)
        return WIRE.json(201, note)


class SketchEmulator(EmulatorApp[SketchConfig, SketchApi]):
    wire = WIRE
    config_type = SketchConfig
    has_strict = True

    def _new_backend(self) -> SketchApi:
        return SketchApi(self.config)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"notes": list(self._api.notes)}

    def _api_route(self, path: str) -> ApiCall | None:
        if not path.startswith("/api/"):
            return None

        def call(environ: WSGIEnvironment, body: bytes, too_large: int) -> Response:
            fields = self._request_fields(environ, body)
            request = SketchRequest(path=path, query=query_first(environ), **fields)
            user = _basic_user(self.config, str(environ.get("HTTP_AUTHORIZATION", "")))
            if user is None:
                return self.wire.error(401, "Who are you?")
            with self._lock:
                found = self._api.routes.find(request, path.rstrip("/"), user)
                return found.handler(request, *found.groups)

        return call

    def _render_page(self, environ: WSGIEnvironment) -> Response:
        items = "".join(f"<li>{note['id']}</li>" for note in self._api.notes)
        return Wire.html(200, html_page("Sketch emulator", f"<ul>{items}</ul>"))

    def _attachment(self, raw_id: str) -> Response:
        return self.wire.error(404, f"No attachment {raw_id}.")


def _basic_user(config: SketchConfig, header: str) -> SketchUser | None:
    scheme, _, token = header.partition(" ")
    try:
        login, _, password = base64.b64decode(token).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if scheme.lower() != "basic":
        return None
    if config.users.get(login) == password:
        return SketchUser(login, readonly=False)
    if config.readonly_users.get(login) == password:
        return SketchUser(login, readonly=True)
    return None
