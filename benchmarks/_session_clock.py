"""A tiny pytest plugin for the benchmarks: when the tests ended, when the session ended.

Loaded with ``-p _session_clock`` (``benchmarks/`` on ``PYTHONPATH``) by ``bench_attachments.py``
and ``bench_session_end.py``. It writes one JSON object to the file named by
``BENCH_SESSION_CLOCK_OUT`` (from the controller only, under pytest-xdist: xdist relays every
worker's ``pytest_runtest_logfinish`` to it, and tmupload uploads from it):

* ``tests_end``: ``time.monotonic()`` when the last test finished (``pytest_runtest_logfinish``);
* ``sessionfinish_start`` / ``sessionfinish_end``: around every ``pytest_sessionfinish``
  implementation (an outermost hook wrapper; tmupload builds and uploads the run in its own,
  ``trylast``, implementation);
* ``unconfigure``: the last ``pytest_unconfigure`` (after the terminal summary);
* ``cpu_at_tests_end`` / ``cpu_at_unconfigure``: ``time.process_time()`` (every thread of this
  process, not its xdist workers nor the server) at those two moments: what the session end
  cost this process's CPU, as against its waiting for the server;
* the requests and request-body bytes every ``httpx`` transport of the process sent before
  the tests ended (tmupload's head start) and after (``_common.WireCounter``);
* tmupload's own figures, read from its collector after the upload: ``Delivery.requests``,
  ``bytes_sent``, the attachments sent and the upload's ``seconds`` (from spooling the run to
  the end of the delivery).

``time.monotonic()`` is one clock for every process on Linux (``CLOCK_MONOTONIC``), so the
driver can add the moment the process was seen to exit.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator
from typing import Any

import pytest
from _common import WireCounter

_wire = WireCounter().install()
_stamps: dict[str, Any] = {"tests": 0}


def pytest_runtest_logfinish(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _stamps["tests_end"] = time.monotonic()
    _stamps["cpu_at_tests_end"] = time.process_time()
    _stamps["tests"] += 1
    _stamps["wire_requests_during_tests"] = _wire.requests
    _stamps["wire_body_bytes_during_tests"] = _wire.body_bytes


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> Generator[None, None, None]:
    _stamps["sessionfinish_start"] = time.monotonic()
    yield
    _stamps["sessionfinish_end"] = time.monotonic()
    for plugin in session.config.pluginmanager.get_plugins():
        outcome = getattr(plugin, "outcome", None)
        if type(plugin).__name__ != "ResultCollector" or outcome is None:
            continue
        delivery = outcome.delivery
        _stamps["upload_ok"] = bool(outcome.ok)
        _stamps["upload_error"] = str(outcome.error) if outcome.error else None
        _stamps["upload_seconds"] = outcome.seconds
        if delivery is not None:
            sent = [a for a in delivery.attachments if a.status == "sent"]
            _stamps["requests"] = delivery.requests
            _stamps["bytes_sent"] = delivery.bytes_sent
            _stamps["attachments_sent"] = len(sent)
            _stamps["attachment_bytes"] = sum(a.size for a in sent)
            _stamps["attachments_not_sent"] = len(delivery.attachments) - len(sent)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    _stamps["unconfigure"] = time.monotonic()
    _stamps["cpu_at_unconfigure"] = time.process_time()
    if hasattr(config, "workerinput"):  # an xdist worker: the controller writes the stamps
        return
    _stamps["wire_requests"] = _wire.requests
    _stamps["wire_body_bytes"] = _wire.body_bytes
    out = os.environ.get("BENCH_SESSION_CLOCK_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(_stamps, handle)
