"""Serving any emulator (a WSGI app) over a real socket, one thread per request.

:func:`serve_in_thread` is for tests and the demo (an ephemeral port on loopback by default).
The request handler is quiet (no line per request on stderr) and hands the client's socket to
the application under ``environ[SOCKET_ENVIRON_KEY]``, so an injected reset can close it
abruptly with :func:`abort_connection`.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Generic, NoReturn, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

# PEP 3333's application: (environ, start_response) -> body chunks. (wsgiref.types is 3.11+.)
WSGIApplication = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
AppT = TypeVar("AppT", bound=WSGIApplication)
ServerT = TypeVar("ServerT", bound="EmulatorServer[Any]")

__all__ = [
    "SOCKET_ENVIRON_KEY",
    "EmulatedConnectionReset",
    "EmulatorServer",
    "abort_connection",
    "run_forever",
    "serve_in_thread",
]

#: The WSGI environ key under which the server puts the client's socket.
SOCKET_ENVIRON_KEY = "tmupload.emulator.socket"


class EmulatedConnectionReset(ConnectionResetError):
    """An emulator dropped the connection on purpose (fault injection).

    Over a socket the client sees a TCP reset and this never leaves the server (``wsgiref``
    swallows ``ConnectionResetError``). In process, ``httpx.WSGITransport`` raises it from
    the client call, since there is no connection to reset.
    """


def abort_connection(environ: Mapping[str, Any]) -> NoReturn:
    """Drop the connection without an answer: a TCP reset over a socket, an error in process.

    SO_LINGER (on, 0 s) makes the close send RST rather than FIN. The server closes the file
    descriptor once the handler returns, which ``wsgiref`` does quietly on a
    ``ConnectionResetError``.
    """
    connection = environ.get(SOCKET_ENVIRON_KEY)
    if isinstance(connection, socket.socket):
        try:
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            connection.close()
        except OSError:
            pass
    raise EmulatedConnectionReset("the emulator dropped the connection (fault injection)")


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


class EmulatorServer(Generic[AppT]):
    """An emulator (a WSGI app) served on a socket from a background thread; a context manager.

    The socket is bound when the object is created, so :attr:`port` and :attr:`url` are known
    before :meth:`start` (a busy port raises ``OSError`` here). ``app_path`` is the part of
    :attr:`url` after the host (ET's ``/EnterpriseTester``; empty for a server at the root);
    by default the app's own ``app_path``.
    """

    def __init__(
        self,
        app: AppT,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        *,
        app_path: str | None = None,
    ) -> None:
        self.app = app
        self.emulator = app  # the name the tests and the demos use
        # by default the emulator's own (Enterprise Tester's ``/EnterpriseTester``)
        self.app_path = str(getattr(app, "app_path", "")) if app_path is None else app_path
        self._server = _ThreadingServer((host, port), _QuietHandler)
        self._server.set_app(app)
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
        return f"{self.scheme}://{self.host}:{self.port}{self.app_path}"

    def start(self: ServerT) -> ServerT:
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

    def __enter__(self: ServerT) -> ServerT:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_thread(
    app: AppT,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
    *,
    app_path: str | None = None,
) -> EmulatorServer[AppT]:
    """Serve ``app`` from a daemon thread; use the result as a context manager."""
    return EmulatorServer(app, host, port, ssl_context, app_path=app_path).start()


def run_forever(
    app: WSGIApplication,
    host: str = "127.0.0.1",
    port: int = 0,
    on_ready: Callable[[str], None] | None = None,
    *,
    app_path: str | None = None,
) -> None:
    """Serve ``app`` in the foreground until interrupted (Ctrl-C ends it cleanly).

    ``on_ready`` receives the base URL once the socket is listening.
    """
    server = EmulatorServer(app, host, port, app_path=app_path)
    try:
        if on_ready is not None:
            on_ready(server.url)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
