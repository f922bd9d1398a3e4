"""What every target's demo shares (``tmupload demo --target T``, run by ``cli/demo.py``).

A target's demo is data (the credentials and settings the example suite runs with)
and one method of its own, ``show``: how to read back, through the server's REST API, what
landed. Starting the emulator, the flags, and the settings that read the project back are alike.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tmupload.emulation import EmulatorServer
from tmupload.settings import Settings, resolve

__all__ = ["DEMO_PROJECT", "DEMO_TOKEN", "EmulatorDemo", "landed_run", "tickets"]

#: The project every demo uploads to (the emulators accept any name).
DEMO_PROJECT = "Demo"
#: The API token the qTest and Zephyr emulators accept out of the box.
DEMO_TOKEN = {"TMUPLOAD_TOKEN": "demo-token"}


@dataclass(frozen=True)
class EmulatorDemo:
    """The demo wiring for one target: a subclass writes ``show``, its instance gives the data."""

    target: str  # the ``--tm-target`` value; its emulator is ``tmupload.targets.<target>.emulator``
    credentials: dict[str, str]  # TMUPLOAD_* variables: a token, or a user and a password
    options: dict[str, str]  # the target's own settings, by option name (as ``--tm-x-y``)

    @property
    def login(self) -> str:
        """How the demo's account logs in, as the first line says it."""
        token = self.credentials.get("TMUPLOAD_TOKEN")
        if token is not None:
            return f"API token {token}"
        return f"login {self.credentials['TMUPLOAD_USER']}/{self.credentials['TMUPLOAD_PASSWORD']}"

    def serve(self) -> EmulatorServer[Any]:
        emulator = importlib.import_module(f"tmupload.targets.{self.target}.emulator")
        server: EmulatorServer[Any] = emulator.serve_in_thread(
            emulator.Emulator(emulator.EmulatorConfig())
        )
        return server

    def environment(self) -> dict[str, str]:
        return dict(self.credentials)

    def pytest_args(self) -> list[str]:
        args = ["--tm-target", self.target, "--tm-project", DEMO_PROJECT]
        for name, value in self.options.items():
            args += ["--tm-" + name.replace("_", "-"), value]
        return args

    def settings(self, url: str) -> Settings:
        """The settings that read the demo's project back, as the example suite ran."""
        flags = {"url": url, "project": DEMO_PROJECT, "target": self.target, **self.options}
        return resolve(flags, {}, self.credentials)

    def show(self, url: str, manifest: dict[str, Any]) -> None:
        raise NotImplementedError


def landed_run(manifest: dict[str, Any], what: str) -> dict[str, Any] | None:
    """The manifest's run when one landed, else None after saying so (``what``: "run")."""
    run = manifest.get("run")
    if not isinstance(run, dict) or not run.get("id"):
        print(f"demo: no {what} landed (see the messages above)")
        return None
    return run


def tickets(keys: Iterable[str]) -> str:
    """The ticket keys a case's line ends with ("  -> PAY-17, PAY-18"), '' for none."""
    shown = ", ".join(keys)
    return f"  -> {shown}" if shown else ""
