"""Fixtures for ``tmupload import``: an emulator on a loopback socket, a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from live import PASSWORD, USER, Live
from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Live]:
    """An emulator served over a real socket; only the credentials in the environment."""
    for name in list(os.environ):
        if name.startswith("TMUPLOAD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
    monkeypatch.chdir(tmp_path)  # no tm_* ini values from the project's own pyproject.toml
    emulator = Emulator(EmulatorConfig(import_delay=0.01, link_delay=0.0))
    with serve_in_thread(emulator) as server:
        yield Live(emulator, server)
