"""Serving the Zephyr Enterprise emulator over a real socket (see ``tmupload.emulation``).

:func:`serve_in_thread` is for tests and the demo (an ephemeral port on loopback by default);
:func:`run_forever` is for the ``tmupload emulator --target zephyr`` command. The URL is the
server root: the API lives under ``/flex/services/rest/latest`` (ref §1) and uploads under
``/flex/upload/…`` (ref §4.7).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

from tmupload.emulation import server as _generic

from .app import Emulator
from .config import EmulatorConfig

__all__ = ["EmulatorServer", "run_forever", "serve_in_thread"]


class EmulatorServer(_generic.EmulatorServer):
    """The Zephyr emulator on a socket; :attr:`url` is the server root."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(emulator, host, port, ssl_context, app_path="")
        self.emulator = emulator

    def start(self) -> EmulatorServer:
        super().start()
        return self

    def __enter__(self) -> EmulatorServer:
        return self.start()


def serve_in_thread(
    emulator: Emulator,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> EmulatorServer:
    """Serve ``emulator`` from a daemon thread; use the result as a context manager."""
    return EmulatorServer(emulator, host, port, ssl_context).start()


def run_forever(
    config: EmulatorConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a new emulator in the foreground until interrupted (Ctrl-C ends it cleanly).

    ``on_ready`` receives the server root URL once the socket is listening.
    """
    server = EmulatorServer(Emulator(config), host, port)
    try:
        if on_ready is not None:
            on_ready(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
