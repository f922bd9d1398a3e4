"""Fixtures for the Zephyr emulator tests: an in-process client and the uploader's steps."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from zephyr_emulator_helpers import BASE_URL, TOKEN, Flow

from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig()


@pytest.fixture
def emu(config: EmulatorConfig) -> Emulator:
    return Emulator(config)


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url=BASE_URL, headers=TOKEN) as http:
        yield http


@pytest.fixture
def anonymous(emu: Emulator) -> Iterator[httpx.Client]:
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url=BASE_URL) as http:
        yield http


@pytest.fixture
def flow(client: httpx.Client) -> Flow:
    return Flow(client)
