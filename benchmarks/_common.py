"""Helpers shared by the benchmark scripts (not a test module; CI does not run benchmarks).

* :func:`machine` describes the machine (cores, CPU model, Python, package versions);
* :class:`TimedEmulator` serves the ET emulator from a thread of the *driver* process (never
  inside the measured process) and records when each ``/api`` request arrived and finished, so
  a benchmark can tell the upload window apart from the rest of a run;
* :class:`EmulatorProcess` serves a target's emulator (ET or qTest, any ``EmulatorConfig``,
  optionally from another source tree) in a process of its own: ``python _common.py serve``;
* :func:`session_env`, :func:`run_clocked` and :func:`prime` run one measured pytest session
  with the helper plugin ``_session_clock.py`` against an emulator that already holds the
  placement (``bench_attachments.py``, ``bench_session_end.py``);
* :func:`median` / :func:`fmt_table` are small formatting helpers.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

PACKAGES = (
    "pytest-tmupload",
    "pytest",
    "pytest-xdist",
    "pytest-rerunfailures",
    "allure-pytest",
    "httpx",
    "pydantic",
    "stamina",
)

#: ``benchmarks/``: on the measured sessions' ``PYTHONPATH`` so that ``-p _session_clock`` loads.
HERE = Path(__file__).resolve().parent

USER = "admin"
PASSWORD = "admin"
PROJECT = "Demo"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    import importlib.util

    spec = importlib.util.find_spec("tmupload")
    info = {
        "revision": git_revision(),
        # The tree measured: the checkout, or a pinned copy put first on PYTHONPATH.
        "tmupload_from": str(Path(spec.origin).parent.parent) if spec and spec.origin else "?",
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(terse=True),
    }
    for name in PACKAGES:
        try:
            info[name] = version(name)
        except PackageNotFoundError:
            info[name] = "not installed"
    return info


def print_machine() -> None:
    info = machine()
    print("machine: " + ", ".join(f"{key}={value}" for key, value in info.items()), flush=True)


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def fmt_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table (also readable as plain text)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(row) for row in cells[1:])
    return "\n".join(out)


def peak_rss_mib() -> float:
    """Peak resident set size of this process in MiB (Linux reports ru_maxrss in KiB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def current_rss_mib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


class TimedEmulator:
    """WSGI middleware around an Emulator: remembers the first and last ``/api`` request time."""

    def __init__(self, emulator: Any) -> None:
        self.emulator = emulator
        self._lock = threading.Lock()
        self.first: float | None = None
        self.last: float | None = None

    def clear(self) -> None:
        with self._lock:
            self.first = None
            self.last = None

    def window(self) -> float:
        """Seconds from the arrival of the first /api request to the end of the last answer."""
        with self._lock:
            if self.first is None or self.last is None:
                return 0.0
            return self.last - self.first

    def __call__(self, environ: Any, start_response: Any) -> Any:
        is_api = "/api" in str(environ.get("PATH_INFO", ""))
        if is_api:
            now = time.perf_counter()
            with self._lock:
                if self.first is None:
                    self.first = now
        try:
            return self.emulator(environ, start_response)
        finally:
            if is_api:
                with self._lock:
                    self.last = time.perf_counter()


def git_revision() -> str:
    """The project's commit and whether src/ differs from it (read-only git calls)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (src/ modified)" if dirty else "")


@contextmanager
def emulator_in_thread(**config: Any) -> Any:
    """Yield (emulator, timed middleware, base URL) of an emulator served from a daemon thread."""
    from tmupload.emulation import EmulatorServer
    from tmupload.targets.et.emulator import Emulator, EmulatorConfig

    emulator = Emulator(EmulatorConfig(**config))
    timed = TimedEmulator(emulator)
    server = EmulatorServer(timed, app_path=emulator.config.app_path)
    server.start()
    try:
        yield emulator, timed, server.url
    finally:
        server.stop()


def python() -> str:
    return sys.executable


def peak_hwm_mib() -> float:
    """VmHWM: the peak RSS of this process's own address space (not inherited through exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


#: Each target's emulator package (``EmulatorConfig`` and ``run_forever`` in each).
EMULATOR_PACKAGES = {
    "et": "tmupload.targets.et.emulator",
    "qtest": "tmupload.targets.qtest.emulator",
    "zephyr": "tmupload.targets.zephyr.emulator",
}

QTEST_TOKEN = "demo-token"
ZEPHYR_TOKEN = "demo-token"
ZEPHYR_RELEASE = "2026.4"


def target_settings(
    target: str, url: str, outbox: str, **extra: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """(flags, environment) for ``tmupload.settings.resolve`` against ``target``'s emulator
    with its default seed: ET as ``admin``, qTest and Zephyr with the token ``demo-token``,
    project ``Demo`` (Zephyr: release ``2026.4``)."""
    flags: dict[str, Any] = {"url": url, "project": PROJECT, "outbox": outbox, **extra}
    if target == "et":
        return {**flags, "user": USER}, {"TMUPLOAD_PASSWORD": PASSWORD}
    if target == "qtest":
        return {"target": "qtest", **flags}, {"TMUPLOAD_TOKEN": QTEST_TOKEN}
    if target == "zephyr":
        flags = {"target": "zephyr", **flags, "release": ZEPHYR_RELEASE}
        return flags, {"TMUPLOAD_TOKEN": ZEPHYR_TOKEN}
    raise ValueError(f"unknown target {target!r}")


def pytest_target_args(target: str, url: str) -> tuple[list[str], dict[str, str]]:
    """The same as :func:`target_settings`, as pytest options and environment."""
    args = ["--tm-upload", "--tm-target", target, "--tm-url", url, "--tm-project", PROJECT]
    if target == "zephyr":
        args += ["--tm-release", ZEPHYR_RELEASE]
    if target == "et":
        return args, {"TMUPLOAD_USER": USER, "TMUPLOAD_PASSWORD": PASSWORD, "TMUPLOAD_TOKEN": ""}
    return args, {"TMUPLOAD_TOKEN": QTEST_TOKEN if target == "qtest" else ZEPHYR_TOKEN}


class WireCounter:
    """Counts every HTTP request an ``httpx.HTTPTransport`` sends in this process and the bytes
    of their bodies (``Content-Length``), whatever the body is built from (``json=``,
    ``content=``), so targets compare alike. ``Delivery.bytes_sent`` counts only ``content=``
    bodies: ET's and qTest's JSON calls are not in it, Zephyr's are. Headers are not counted."""

    def __init__(self) -> None:
        self.requests = 0
        self.body_bytes = 0
        self._lock = threading.Lock()

    def install(self) -> WireCounter:
        import httpx

        original = httpx.HTTPTransport.handle_request
        counter = self

        def handle_request(
            transport: httpx.HTTPTransport, request: httpx.Request
        ) -> httpx.Response:
            size = int(request.headers.get("content-length") or 0)
            with counter._lock:
                counter.requests += 1
                counter.body_bytes += size
            return original(transport, request)

        httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign,assignment]
        return self


class RequestTimes:
    """WSGI middleware that stamps every request but its own (``time.monotonic()``: one clock
    for every process on Linux) and answers ``GET …/_bench/times`` with them all, oldest
    first: ``[arrived, answered, method, path]`` (answered: when the application returned its
    body, the emulator's ``latency`` included). The emulator's own log (``/_emulator/requests``)
    has no times; this one tells the requests sent during the tests from those after them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.times: list[tuple[float, float, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        import json

        path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
        if path.endswith("/_bench/times"):
            with self._lock:
                body = json.dumps([list(entry) for entry in self.times]).encode()
            start_response(
                "200 OK",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        arrived = time.monotonic()
        try:
            return self.app(environ, start_response)
        finally:
            if "/_emulator/" not in path:
                method = str(environ.get("REQUEST_METHOD", "GET"))
                with self._lock:
                    self.times.append((arrived, time.monotonic(), method, path))


def serve(target: str, config_json: str, timed: bool = False) -> None:
    """Serve ``target``'s emulator on a free loopback port until terminated.

    Printed first: ``emulator at URL``. Falls back to ``tmupload.emulator`` for ET, so the
    same helper serves a source tree from before the reshape (``--before-src``). ``timed``:
    behind :class:`RequestTimes` (``GET URL/_bench/times``).
    """
    import importlib
    import json

    try:
        package = importlib.import_module(EMULATOR_PACKAGES[target])
    except ModuleNotFoundError:
        if target != "et":
            raise
        package = importlib.import_module("tmupload.emulator")  # before the reshape
    config = package.EmulatorConfig(**json.loads(config_json))

    def ready(url: str) -> None:
        print(f"emulator at {url}", flush=True)

    if not timed:
        package.run_forever(config, "127.0.0.1", 0, ready)
        return
    from tmupload.emulation.server import run_forever

    emulator = package.Emulator(config)
    app_path = str(getattr(emulator.config, "app_path", "") or "")
    run_forever(RequestTimes(emulator), "127.0.0.1", 0, ready, app_path=app_path)


def source_env(src: str | None) -> dict[str, str]:
    """The environment of a child that imports tmupload from ``src`` (None: the installed one).

    The project is installed editable through a plain ``.pth`` path entry, so a
    ``PYTHONPATH`` entry comes first and wins.
    """
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(src).resolve()), *filter(None, [env.get("PYTHONPATH")])]
        )
    return env


def importable(module: str, env: dict[str, str]) -> bool:
    """Whether a child process with ``env`` can import ``module``."""
    import subprocess

    probe = [sys.executable, "-c", f"import {module}"]
    return subprocess.run(probe, env=env, capture_output=True, check=False).returncode == 0


def session_env(
    scratch: Path,
    path: Sequence[str] = (),
    extra: dict[str, str] | None = None,
    bytecode: bool = True,
) -> dict[str, str]:
    """The environment of a measured pytest session.

    Bytecode caching on, as in a normal checkout (``PYTHONDONTWRITEBYTECODE`` removed,
    ``PYTHONPYCACHEPREFIX`` in ``scratch``, so no ``__pycache__`` lands in a source tree);
    no ``TMUPLOAD_``/``PYTEST_``/``COV_`` variables of the driver's; ``path`` first on
    ``PYTHONPATH`` (a ``--before-src`` tree, an ``--allure-site``), then ``benchmarks/`` (for
    ``-p _session_clock``); ``extra`` last (a target's credentials).

    ``bytecode=False``: ``PYTHONDONTWRITEBYTECODE=1`` and no ``PYTHONPYCACHEPREFIX``, so the
    installed packages' own ``__pycache__`` (written by pip) are read and nothing is written:
    a source tree without caches (the test files, a ``path`` tree) is compiled every time.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TMUPLOAD_", "PYTEST_", "COV_"))
        and key not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(
        [
            *(str(Path(p).resolve()) for p in path),
            str(HERE),
            *filter(None, [os.environ.get("PYTHONPATH")]),
        ]
    )
    env.update(extra or {})
    return env


def run_clocked(
    command: Sequence[str], cwd: Path, env: dict[str, str], clock: Path, log: Path
) -> dict[str, Any]:
    """Run one pytest session that loads ``-p _session_clock`` and return its figures.

    The stamps of ``_session_clock.py`` (``tests_end``, ``unconfigure``, the wire counts,
    tmupload's ``upload_ok`` …) plus, from the driver: ``returncode``; ``wall`` (start to the
    process seen to exit, ``time.monotonic()``); ``cpu`` (user + sys of the session, its
    xdist workers and tmupload's courier, all reaped by it: the ``RUSAGE_CHILDREN`` delta;
    emulators in processes of their own are reaped only when stopped, so they are not in it);
    ``session_end`` (last test end to the
    last ``pytest_unconfigure``); ``to_exit`` (last test end to the process exit);
    ``sessionfinish``; ``end_requests`` / ``end_body_bytes`` (sent after the last test);
    ``first_test_delay`` (launch to the first test's setup, in whichever process ran it: the
    xdist workers' stamps are read from ``CLOCK.<worker id>``).
    The output goes to ``log``; a session that left no clock stops the benchmark.
    """
    import json
    import resource
    import subprocess

    clock.unlink(missing_ok=True)
    for stale in clock.parent.glob(clock.name + ".*"):
        stale.unlink()
    env = {**env, "BENCH_SESSION_CLOCK_OUT": str(clock)}
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as handle:
        code = subprocess.run(
            list(command), cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, env=env, check=False
        ).returncode
    exited = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not clock.is_file():
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"pytest exited {code} and left no clock ({log}):\n{tail}")
    stamps: dict[str, Any] = json.loads(clock.read_text(encoding="utf-8"))
    clock.unlink()
    # The xdist workers' own stamps (the first test's start in each): CLOCK.<worker id>.
    for worker in sorted(clock.parent.glob(clock.name + ".*")):
        first = json.loads(worker.read_text(encoding="utf-8")).get("first_test_start")
        worker.unlink()
        if first is not None:
            stamps["first_test_start"] = min(first, stamps.get("first_test_start", first))
    if "tests_end" not in stamps:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise SystemExit(f"pytest exited {code} and ran no test ({log}):\n{tail}")
    stamps["returncode"] = code
    stamps["start"] = started
    stamps["exit"] = exited
    stamps["wall"] = exited - started
    stamps["cpu"] = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
    stamps["session_end"] = stamps["unconfigure"] - stamps["tests_end"]
    if "cpu_at_unconfigure" in stamps and "cpu_at_tests_end" in stamps:
        stamps["session_end_cpu"] = stamps["cpu_at_unconfigure"] - stamps["cpu_at_tests_end"]
    stamps["to_exit"] = exited - stamps["tests_end"]
    if "first_test_start" in stamps:  # from the driver's launch to the first test's setup
        stamps["first_test_delay"] = stamps["first_test_start"] - started
    stamps["sessionfinish"] = stamps["sessionfinish_end"] - stamps["sessionfinish_start"]
    stamps["end_requests"] = stamps["wire_requests"] - stamps["wire_requests_during_tests"]
    stamps["end_body_bytes"] = stamps["wire_body_bytes"] - stamps["wire_body_bytes_during_tests"]
    return stamps


def prime(target: str, url: str, scratch: Path) -> None:
    """Upload one passing case of another test, so that what a first upload creates (ET's
    packages, automated test and assignment; qTest's cycle; Zephyr's cycle, phase and folder)
    exists when the session starts, as for every run after the first: ET's head start then
    finds a complete placement. Runs in the driver, with the tmupload it imports."""
    import shutil

    from tmupload.delivery.pipeline import upload
    from tmupload.models import CaseResult, Outcome, RunReport
    from tmupload.settings import resolve

    outbox = scratch / "outbox-prime"
    flags, env = target_settings(target, url, str(outbox), attach="none")
    case = CaseResult(
        case_id="test_prime.py::test_prime",
        suite="test_prime.py",
        name="test_prime",
        outcome=Outcome.PASSED,
    )
    outcome = upload(RunReport(name="prime", cases=[case]), resolve(flags, {}, env))
    shutil.rmtree(outbox, ignore_errors=True)
    if not outcome.ok:
        raise SystemExit(f"priming {target} failed: {outcome.error}")


class EmulatorProcess:
    """A target's emulator in a process of its own, controlled over ``/_emulator``.

    ``config`` holds ``EmulatorConfig`` fields (JSON values); ``src`` a ``src/`` directory to
    import tmupload from instead of the installed one.
    """

    def __init__(
        self,
        target: str = "et",
        config: dict[str, Any] | None = None,
        src: str | None = None,
        timed: bool = False,
    ) -> None:
        import json
        import subprocess

        args = [
            sys.executable,
            str(Path(__file__).resolve()),
            "serve",
            target,
            json.dumps(config or {}),
        ]
        if timed:  # behind RequestTimes: see times()
            args.append("timed")
        self._proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=source_env(src),
        )
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline()
        marker = "emulator at "
        if marker not in first:
            self._proc.kill()
            rest = self._proc.stdout.read()
            raise RuntimeError(f"the {target} emulator did not start: {first}{rest}")
        self.url = first.split(marker, 1)[1].strip()
        self.command = " ".join(args[:4]) + f" '{args[4]}'" + "".join(f" {a}" for a in args[5:])
        if src is not None:
            self.command = f"PYTHONPATH={src} {self.command}"

    def _control(self, method: str, action: str) -> Any:
        import json
        import urllib.request

        request = urllib.request.Request(f"{self.url}/_emulator/{action}", method=method)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def reset(self) -> None:
        self._control("POST", "reset")

    def requests(self) -> list[list[Any]]:
        return list(self._control("GET", "requests"))

    def times(self) -> list[list[Any]]:
        """``[arrived, answered, method, path]`` of every request so far (``timed`` only)."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/_bench/times", timeout=60) as response:
            return list(json.loads(response.read()))

    def stop(self) -> None:
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except Exception:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3], timed=sys.argv[4:] == ["timed"])
    else:
        raise SystemExit(
            "usage: _common.py serve TARGET CONFIG_JSON [timed] (used by the benchmarks)"
        )
