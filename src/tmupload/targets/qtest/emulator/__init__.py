"""An in-memory qTest Manager site for tests, examples and the demo (a testing aid).

It follows ``docs/servers/qtest.md`` (cited as ``docs/servers/qtest.md §N`` in the code), marks what
the reference leaves open as ``[inference]``, imports nothing from the qTest client, and
injects faults on request::

    from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig, serve_in_thread

    emu = Emulator(EmulatorConfig(job_delay=0.0))
    client = httpx.Client(transport=httpx.WSGITransport(app=emu),
                          base_url="http://acme.qtest.test",
                          headers={"Authorization": "Bearer demo-token"})
    with serve_in_thread(emu) as server:   # or over a real socket
        httpx.get(server.url + "/api/v3/projects", headers=...)
"""

from __future__ import annotations

from tmupload.emulation import EmulatedConnectionReset, serve_in_thread

from .app import Emulator, EmulatorServer, run_forever
from .config import EmulatorConfig, Faults

__all__ = [
    "EmulatedConnectionReset",
    "Emulator",
    "EmulatorConfig",
    "EmulatorServer",
    "Faults",
    "run_forever",
    "serve_in_thread",
]
