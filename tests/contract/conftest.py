"""The contract suite runs every scenario against every target's emulator (``servers.SERVERS``:
the registry's targets that have one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import SERVERS, Server, serving


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    with serving(request.param, monkeypatch) as started:
        yield started


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
