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
  the end of the delivery) — from a tree that uploads in this process (``outcome``, up to
  41a06f8); from a tree with a courier process (``CourierLink``), only ``upload_ok``, the
  error and ``courier_pid`` (the requests are then counted by the emulator:
  ``_common.RequestTimes``);
* ``first_test_start``: ``time.monotonic()`` when the first test's setup began, in whichever
  process ran it (an xdist worker writes its own to ``BENCH_SESSION_CLOCK_OUT.<worker id>``),
  and ``cpu_at_first_test``, this process's ``time.process_time()`` then (serial sessions:
  the CPU spent before the first test, the plugins' share of it included);
* ``peak_rss_mib``: this process's peak RSS (``VmHWM``) at the last ``pytest_unconfigure``;
* the courier's own rusage, ``courier_cpu`` (user + sys s) and ``courier_maxrss_mib``: this
  plugin routes ``os.waitpid`` through ``os.wait4`` and keeps the rusage of every process it
  reaps, so that when the collector reaps its courier (``CourierLink.close``, since 4bb2e1d's
  parent) the figures are kept; a tree that leaves it unreaped (ffed6d3) has it reaped here at
  the last ``pytest_unconfigure`` (it has ended or is ending: the collector read its stdout to
  the end; ``courier_reap_wait``: how long that waited, part of the session end measured).
  Either way the courier is this process's child, so the driver's CPU figure includes it.

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
_reaped: dict[int, Any] = {}  # pid -> resource.struct_rusage of the processes reaped here


def _waitpid_keeping_rusage(pid: int, options: int) -> tuple[int, int]:
    got, status, usage = os.wait4(pid, options)
    if got > 0:
        _reaped[got] = usage
    return got, status


os.waitpid = _waitpid_keeping_rusage


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "first_test_start" not in _stamps:
        _stamps["first_test_start"] = time.monotonic()
        _stamps["cpu_at_first_test"] = time.process_time()


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
        if type(plugin).__name__ != "ResultCollector":
            continue
        courier = getattr(plugin, "courier", None)
        if courier is not None:  # the courier delivered; this process only wrote
            _stamps["courier_pid"] = courier.pid
            _stamps["upload_ok"] = bool(plugin.ok)
            _stamps["upload_error"] = plugin.problem or (
                None if plugin.ok else " / ".join(text for _, text in plugin.lines)
            )
            continue
        outcome = getattr(plugin, "outcome", None)
        if outcome is None:
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
    out = os.environ.get("BENCH_SESSION_CLOCK_OUT")
    worker = getattr(config, "workerinput", None)
    if worker is not None:  # an xdist worker: the controller writes the stamps, but for this
        if out and "first_test_start" in _stamps:
            with open(f"{out}.{worker.get('workerid', os.getpid())}", "w") as handle:
                json.dump({"first_test_start": _stamps["first_test_start"]}, handle)
        return
    _stamps["peak_rss_mib"] = _peak_rss_mib()
    if "courier_pid" in _stamps:
        _reap_courier(int(_stamps["courier_pid"]))
    _stamps["wire_requests"] = _wire.requests
    _stamps["wire_body_bytes"] = _wire.body_bytes
    if out:
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(_stamps, handle)


def _peak_rss_mib() -> float | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _reap_courier(pid: int) -> None:
    usage = _reaped.get(pid)
    if usage is None:
        waited = time.monotonic()
        try:
            _, status, usage = os.wait4(pid, 0)
        except ChildProcessError:  # reaped already, not through os.waitpid
            return
        _stamps["courier_reap_wait"] = time.monotonic() - waited
        _stamps["courier_status"] = os.waitstatus_to_exitcode(status)
    _stamps["courier_cpu"] = usage.ru_utime + usage.ru_stime
    _stamps["courier_maxrss_mib"] = usage.ru_maxrss / 1024.0
