"""Helpers for end-to-end tests against the emulator served over a real loopback socket."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tmupload.targets.et.emulator import Emulator, EmulatorServer

USER = "admin"
PASSWORD = "admin"


@dataclass
class Live:
    emulator: Emulator
    server: EmulatorServer

    @property
    def url(self) -> str:
        return self.server.url

    def runs(self) -> list[dict[str, Any]]:
        return list(self.emulator.snapshot()["runs"])

    def only_run(self) -> dict[str, Any]:
        runs = self.runs()
        assert len(runs) == 1, f"expected exactly one run, the server has {len(runs)}"
        return runs[0]

    def api_calls(self, method: str | None = None) -> list[tuple[str, str, int]]:
        return [call for call in self.emulator.requests if method is None or call[0] == method]


def leaves(run: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(parent name, node name) -> node, for every result node without children."""
    found: dict[tuple[str, str], dict[str, Any]] = {}

    def walk(node: dict[str, Any], parent: str) -> None:
        if node["Children"]:
            for child in node["Children"]:
                walk(child, node["Name"])
        else:
            found[(parent, node["Name"])] = node

    for root in run["Nodes"]:
        walk(root, "")
    return found


def upload_args(live: Live, tmp_path: Any, *extra: str) -> list[str]:
    return [
        "--tm-upload",
        "--tm-url",
        live.url,
        "--tm-project",
        "Demo",
        f"--tm-outbox={tmp_path / 'outbox'}",
        "-p",
        "no:cacheprovider",
        *extra,
    ]
