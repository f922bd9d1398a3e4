"""The contract suite runs every scenario against every target's emulator (``servers.SERVERS``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import SERVERS, Server

_ENV = ("UPLOAD", "URL", "PROJECT", "OUTBOX", "USER", "PASSWORD", "TOKEN", "TARGET", "DRY_RUN")


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in _ENV:
        monkeypatch.delenv(f"TMUPLOAD_{name}", raising=False)
    with SERVERS[request.param]() as started:
        for key, value in started.credentials().items():
            monkeypatch.setenv(key, value)
        yield started


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
