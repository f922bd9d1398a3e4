"""What every server emulator shares: serving a WSGI app on loopback and dropping connections.

The emulators themselves live beside their targets (``targets/<name>/emulator/``) and import
nothing from the client code; they follow ``docs/servers/`` only.
"""

from __future__ import annotations

from .clock import Clock, ManualClock
from .faults import NO_FAULT, SPEC_WORDS, Decision, FaultInjector, Faults, parse_faults_spec
from .server import (
    SOCKET_ENVIRON_KEY,
    EmulatedConnectionReset,
    EmulatorServer,
    abort_connection,
    run_forever,
    serve_in_thread,
)

__all__ = [
    "NO_FAULT",
    "SOCKET_ENVIRON_KEY",
    "SPEC_WORDS",
    "Clock",
    "Decision",
    "EmulatedConnectionReset",
    "EmulatorServer",
    "FaultInjector",
    "Faults",
    "ManualClock",
    "abort_connection",
    "parse_faults_spec",
    "run_forever",
    "serve_in_thread",
]
