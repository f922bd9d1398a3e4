"""End-to-end fixtures: an emulator served over a real loopback socket, per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from live import PASSWORD, USER, Live
from tmupload.emulator import Emulator, EmulatorConfig, serve_in_thread


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    emulator = Emulator(EmulatorConfig(import_delay=0.01, link_delay=0.0))
    with serve_in_thread(emulator) as server:
        monkeypatch.setenv("TMUPLOAD_USER", USER)
        monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
        for name in ("TMUPLOAD_UPLOAD", "TMUPLOAD_URL", "TMUPLOAD_PROJECT"):
            monkeypatch.delenv(name, raising=False)
        yield Live(emulator, server)
