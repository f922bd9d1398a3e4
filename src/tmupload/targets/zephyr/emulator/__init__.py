"""An in-memory Zephyr Enterprise server for tests, examples and the demo (a testing aid).

It follows ``docs/servers/zephyr.md`` (cited as ``docs/servers/zephyr.md §N`` in the code),
marks what the reference leaves open as ``[inference]``, and injects faults on request::

    from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig, serve_in_thread

    emu = Emulator(EmulatorConfig())
    client = httpx.Client(transport=httpx.WSGITransport(app=emu),
                          base_url="http://ze.test/flex/services/rest/latest",
                          headers={"Authorization": "Bearer demo-token"})
    with serve_in_thread(emu) as server:   # or over a real socket; server.url is the root
        httpx.get(server.url + "/flex/services/rest/latest/user/current", auth=("admin", "admin"))
"""

from __future__ import annotations

from tmupload.emulation import EmulatedConnectionReset, serve_in_thread

from .app import REST_PREFIX, Emulator, EmulatorServer, run_forever
from .config import EmulatorConfig, ExecutionStatus, Faults

__all__ = [
    "REST_PREFIX",
    "EmulatedConnectionReset",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "ExecutionStatus",
    "Faults",
    "run_forever",
    "serve_in_thread",
]
