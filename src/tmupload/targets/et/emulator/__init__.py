"""An in-memory Enterprise Tester server for tests, examples and the demo (a testing aid).

It follows ``docs/servers/et.md`` (cited as ``docs/servers/et.md §N`` in the code),
marks what the reference leaves open as ``[inference]``, and injects faults on request::

    from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread

    emu = Emulator(EmulatorConfig(import_delay=0.0))
    client = httpx.Client(transport=httpx.WSGITransport(app=emu),
                          base_url="http://et.test/EnterpriseTester", auth=("admin", "admin"))
    with serve_in_thread(emu) as server:   # or over a real socket
        httpx.get(server.url + "/api", auth=("admin", "admin"))
"""

from __future__ import annotations

from tmupload.emulation import EmulatedConnectionReset, serve_in_thread

from .app import Emulator, EmulatorServer, run_forever
from .config import EmulatorConfig, Faults, TrackerLink

__all__ = [
    "EmulatedConnectionReset",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "Faults",
    "TrackerLink",
    "run_forever",
    "serve_in_thread",
]
