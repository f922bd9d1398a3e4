from __future__ import annotations

from collections.abc import Iterator

import pytest
import stamina

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True)
def _no_retry_waits() -> Iterator[None]:
    """Retries keep their attempt counts but never sleep in tests."""
    with stamina.set_testing(True, attempts=5, cap=True):
        yield
