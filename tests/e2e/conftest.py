"""End-to-end fixtures: emulators served over a real loopback socket, per test.

``live``/``start_live``: the Enterprise Tester emulator, for tests of ET's own flow.
``server``: every target's emulator in turn (the contract suite's ``servers.SERVERS``), for
what every user is promised whichever server they upload to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from contract.servers import SERVERS, Server, serving
from live import PASSWORD, USER, Live
from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread


def fast_config(**overrides: object) -> EmulatorConfig:
    values: dict[str, object] = {"import_delay": 0.01, "link_delay": 0.0}
    values.update(overrides)
    return EmulatorConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
def start_live(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Live]]:
    """Start an emulator with the given EmulatorConfig overrides; stopped after the test."""
    monkeypatch.setenv("TMUPLOAD_USER", USER)
    monkeypatch.setenv("TMUPLOAD_PASSWORD", PASSWORD)
    for name in ("TMUPLOAD_UPLOAD", "TMUPLOAD_URL", "TMUPLOAD_PROJECT", "TMUPLOAD_OUTBOX"):
        monkeypatch.delenv(name, raising=False)
    with ExitStack() as stack:

        def start(**overrides: object) -> Live:
            emulator = Emulator(fast_config(**overrides))
            server = stack.enter_context(serve_in_thread(emulator))
            return Live(emulator, server)

        yield start


@pytest.fixture
def live(start_live: Callable[..., Live]) -> Live:
    return start_live()


@pytest.fixture(params=sorted(SERVERS))
def server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Each target's emulator (strict where the contract suite's is), its login in the
    environment; as tests/contract/conftest.py's fixture of the same name."""
    with serving(request.param, monkeypatch) as started:
        yield started


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"
