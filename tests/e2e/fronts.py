"""The same server at another address: down (nothing listening), back on a given port, or
behind HTTPS. Every front serves the one emulator, so ``Server``'s read-back sees what lands."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from ssl import SSLContext
from urllib.parse import urlsplit

from contract.servers import Server
from tmupload.emulation.server import serve_in_thread as serve_app

__all__ = ["free_port", "front", "pointed_at", "url_at"]


def free_port() -> int:
    """A loopback port nothing listens on (the kernel's pick, released at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_at(server: Server, port: int, scheme: str = "http") -> str:
    """``server``'s URL with another port (and scheme): the same server seen elsewhere."""
    return f"{scheme}://127.0.0.1:{port}{urlsplit(server.url).path}"


@contextmanager
def front(server: Server, port: int = 0, ssl_context: SSLContext | None = None) -> Iterator[str]:
    """Serve ``server``'s emulator — the same state, so ``server``'s read-back sees what lands
    — on another socket as well (a given port, or HTTPS); yields that front's URL."""
    path = urlsplit(server.url).path
    with serve_app(
        server.emulator,  # type: ignore[attr-defined]
        port=port,
        ssl_context=ssl_context,
        app_path=path,
    ) as serving:
        yield serving.url


def pointed_at(args: list[str], server: Server, url: str) -> list[str]:
    """Flags that name ``server``'s URL, naming ``url`` instead."""
    return [url if arg == server.url else arg for arg in args]
