"""End-to-end fixtures: an emulator served over a real loopback socket, per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

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
