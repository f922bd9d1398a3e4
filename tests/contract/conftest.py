"""The contract suite runs every scenario against every target's emulator (``servers.SERVERS``:
the registry's targets that have one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import SERVERS, Server

from tmupload.targets.registry import all_options

# Every variable tmupload reads: the outer environment must not steer a scenario.
_ENV = (*(spec.env for spec in all_options()), "TMUPLOAD_PASSWORD", "TMUPLOAD_TOKEN")


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    with SERVERS[request.param]() as started:
        for key, value in started.credentials().items():
            monkeypatch.setenv(key, value)
        yield started


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
