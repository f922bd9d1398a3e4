"""Serving the emulator over a real socket (``wsgiref`` with one thread per request).

:func:`serve_in_thread` is for tests and the demo (an ephemeral port on loopback by default);
:func:`run_forever` is for the ``tmupload emulator`` command. The request handler is quiet
(no line per request on stderr) and hands the client's socket to the application under
``environ["tmupload.emulator.socket"]``, so injected resets can close it abruptly.
"""

from __future__ import annotations

import socketserver
import ssl
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from .app import Emulator
from .config import EmulatorConfig
from .protocol import SOCKET_ENVIRON_KEY

__all__ = ["EmulatorServer", "run_forever", "serve_in_thread"]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None

    def get_environ(self) -> dict[str, Any]:
        environ = super().get_environ()
        environ[SOCKET_ENVIRON_KEY] = self.connection
        if isinstance(self.connection, ssl.SSLSocket):
            environ["wsgi.url_scheme"] = "https"
            environ["HTTPS"] = "on"
        return environ


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    # HTTP/1.0 means one connection per request: with several link threads connecting at once
    # socketserver's backlog of 5 overflows and a dropped SYN costs a 1 s retransmit.
    request_queue_size = 128

    def server_bind(self) -> None:
        # WSGIServer.server_bind resolves the host name (socket.getfqdn), which can stall
        # for seconds without DNS; the emulator does not need it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        self.setup_environ()

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that went away is not worth a traceback


class EmulatorServer:
    """An emulator served on a socket from a background thread; a context manager.

    The socket is bound when the object is created, so :attr:`port` and :attr:`url` are known
    before :meth:`start`.
    """

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.emulator = emulator
        self._server = _ThreadingServer((host, port), _QuietHandler)
        self._server.set_app(emulator)
        self.scheme = "http"
        if ssl_context is not None:  # HTTPS, for tests of certificate checks and mutual TLS
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread: threading.Thread | None = None
        self.host = host
        self.port: int = self._server.server_port

    @property
    def url(self) -> str:
        """The base URL including the application path, e.g. ``http://127.0.0.1:8123/EnterpriseTester``."""
        return f"{self.scheme}://{self.host}:{self.port}{self.emulator.config.app_path}"

    def start(self) -> EmulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"tmupload-emulator-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` or an exception (Ctrl-C)."""
        self._server.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


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

    ``on_ready`` receives the base URL once the socket is listening.
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
