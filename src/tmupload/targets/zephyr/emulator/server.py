"""Serving the Zephyr Enterprise emulator over a real socket (see ``tmupload.emulation``):
the URL is the server root: the API lives under ``/flex/services/rest/latest`` (ref §1)
and uploads under ``/flex/upload/…`` (ref §4.7).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from tmupload.emulation import server as _generic

from .app import Emulator
from .config import EmulatorConfig

__all__ = ["EmulatorServer", "run_forever", "serve_in_thread"]

EmulatorServer = _generic.EmulatorServer[Emulator]


def serve_in_thread(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> EmulatorServer:
    """Serve ``emulator`` from a daemon thread; use the result as a context manager."""
    return _generic.serve_in_thread(emulator, host, port, ssl_context, app_path="")


def run_forever(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a new emulator in the foreground until interrupted (``tmupload emulator``)."""
    emulator = Emulator(config)
    _generic.run_forever(emulator, host, port, on_ready, app_path="")
