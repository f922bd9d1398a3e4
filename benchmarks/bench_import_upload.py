"""Benchmark ``tmupload import`` end to end: read -> outbox -> payload -> upload, per target.

Run from the repository root (a script, not a test; CI does not run it)::

    python benchmarks/bench_import_upload.py                       # 100k and 1M, every target
    python benchmarks/bench_import_upload.py --cases 100000 --targets et
    python benchmarks/bench_import_upload.py --src /tmp/before/src  # a pinned source tree
    python benchmarks/bench_import_upload.py --phases --cases 100000 --targets et

Each measurement starts the target's emulator in a process of its own
(``_common.EmulatorProcess``, fresh for every measurement), then a fresh *measuring* process
whose only child is ``tmupload import FILE --target T ...``: once that child has exited,
``getrusage(RUSAGE_CHILDREN)`` in the measuring process is the client's alone -- its peak RSS
(``ru_maxrss``) and its CPU (user + system). Wall is the child's, start to exit, interpreter
start and imports included. The emulator's memory and CPU are not in the figures.

``--phases`` runs the same import inside one process instead, with a thread sampling the
resident set every 10 ms and wrappers around the steps of the path (reading, spooling, reading
the entry back, building the payload, sending): the peak RSS seen during each step and the RSS
when it ended, which says where the memory goes. ``--tracemalloc`` adds the peak of Python
allocations per step (slower: use it at 100,000 cases).

The JUnit files come from the test suite's generator (``tests/junit/bigfile.py``: about 280
bytes a case, 10% failures with a traceback, 5% skips, 40% with captured output). With the
default ``--attach output`` every failure gets an ``output.txt`` attachment (10,000 files for
100,000 cases), which also makes ET read every result node back to attach them;
``--import-args '--attach none'`` measures the upload alone.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "junit"))  # the test suite's file generator

TARGETS = ("et", "qtest", "zephyr")

#: Steps wrapped by ``--phases``: (label, module, attribute path). A name missing from the
#: measured tree is skipped, so the same script measures trees before and after a change.
STEPS: tuple[tuple[str, str, str], ...] = (
    ("read", "tmupload.cli.import_cmd", "read_junit"),
    ("spool", "tmupload.delivery.outbox", "Outbox.spool"),
    ("entry.run", "tmupload.delivery.outbox", "OutboxEntry.run"),
    ("deliver", "tmupload.delivery.pipeline", "_deliver"),
    ("et.payload", "tmupload.targets.et.target", "build_payload"),
    ("et.payload", "tmupload.targets.et.target", "write_payload"),
    ("et.POST", "tmupload.targets.et.api", "EtApi.upload_results"),
    ("et.POST", "tmupload.targets.et.target", "EtTarget._post"),
    ("et.find_run", "tmupload.targets.et.target", "find_new_run"),
    ("et.map_nodes", "tmupload.targets.et.target", "map_nodes"),
    ("et.attachments", "tmupload.targets.et.target", "EtTarget._attach"),
    ("journal.finish", "tmupload.delivery.journal", "FileJournal.finish"),
    ("qtest.logs", "tmupload.targets.qtest.target", "build_logs"),
    ("qtest.submit", "tmupload.targets.qtest.submit", "Submitter.run"),
    ("qtest.map", "tmupload.targets.qtest.target", "_map"),
    ("qtest.runindex", "tmupload.targets.qtest.target", "RunIndex.read"),
    ("links", "tmupload.targets.qtest.target", "link_all"),
    ("links", "tmupload.targets.et.target", "link_all"),
    ("links", "tmupload.targets.zephyr.target", "link_all"),
    ("zephyr.placement", "tmupload.targets.zephyr.target", "resolve_placement"),
    ("zephyr.executions", "tmupload.targets.zephyr.target", "Scheduler.add_cases"),
    ("zephyr.executions", "tmupload.targets.zephyr.target", "Scheduler.assign"),
    ("zephyr.readback", "tmupload.targets.zephyr.target", "read_executions"),
    ("attachments", "tmupload.targets.zephyr.target", "send_all"),
    ("zephyr.repository", "tmupload.targets.zephyr.target", "ZephyrTarget._repository"),
    ("zephyr.statuses", "tmupload.targets.zephyr.target", "ZephyrTarget._statuses"),
    ("report", "tmupload.cli.import_cmd", "print_outcome"),
)


def _command(target: str, url: str, path: Path, outbox: Path) -> tuple[list[str], dict[str, str]]:
    """The ``tmupload import`` command line and environment for ``target``'s emulator."""
    from _common import target_settings

    flags, env = target_settings(target, url, str(outbox))
    args = ["import", str(path), "--deadline", "7200", "--timeout", "900"]
    args += shlex.split(os.environ.get("BENCH_IMPORT_ARGS", ""))
    for key, value in flags.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return args, env


def _tmupload() -> str:
    return str(Path(sys.executable).parent / "tmupload")


def measure(target: str, url: str, path: Path, outbox: Path) -> None:
    """The measuring process: one child, ``tmupload import``; print its figures as JSON."""
    args, extra = _command(target, url, path, outbox)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
    env.update(extra)
    started = time.perf_counter()
    done = subprocess.run(
        [_tmupload(), *args], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "returncode": done.returncode,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kib": usage.ru_maxrss,
        "tail": (done.stdout + done.stderr)[-2500:],
    }
    print(json.dumps(result), flush=True)


# -- --phases: where the memory goes ------------------------------------------------------------


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class PhaseClock:
    """Peak RSS (sampled) and tracemalloc peak per labelled step; nested steps are their own."""

    def __init__(self, trace: bool) -> None:
        self.trace = trace
        self.stack: list[str] = ["(other)"]
        self.rows: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _row(self, label: str) -> dict[str, float]:
        return self.rows.setdefault(
            label, {"peak_kib": 0, "end_kib": 0, "seconds": 0.0, "py_peak": 0, "calls": 0}
        )

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            rss = _rss_kib()
            with self._lock:
                row = self._row(self.stack[-1])
                row["peak_kib"] = max(row["peak_kib"], rss)

    def start(self) -> None:
        if self.trace:
            import tracemalloc

            tracemalloc.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    @contextlib.contextmanager
    def step(self, label: str) -> Iterator[None]:
        import tracemalloc

        with self._lock:
            outer = self.stack[-1]
            self.stack.append(label)
            rss = _rss_kib()
            self._row(outer)["peak_kib"] = max(self._row(outer)["peak_kib"], rss)
        if self.trace:
            tracemalloc.reset_peak()
        started = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - started
            py_peak = tracemalloc.get_traced_memory()[1] if self.trace else 0
            rss = _rss_kib()
            with self._lock:
                self.stack.pop()
                row = self._row(label)
                row["peak_kib"] = max(row["peak_kib"], rss)
                row["end_kib"] = rss
                row["seconds"] += seconds
                row["py_peak"] = max(row["py_peak"], py_peak)
                row["calls"] += 1
            if self.trace:
                tracemalloc.reset_peak()


def _wrap(clock: PhaseClock, label: str, module_name: str, dotted: str) -> bool:
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return False
    *parents, name = dotted.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
        if owner is None:
            return False
    original = getattr(owner, name, None)
    if original is None or getattr(original, "_bench_wrapped", False):
        return False

    @functools.wraps(original)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with clock.step(label):
            return original(*args, **kwargs)

    wrapped._bench_wrapped = True  # type: ignore[attr-defined]
    setattr(owner, name, wrapped)
    return True


def phases(target: str, url: str, path: Path, outbox: Path, trace: bool) -> None:
    """Run the import in this process with every step wrapped; print the steps as JSON."""
    args, extra = _command(target, url, path, outbox)
    for key in [k for k in os.environ if k.startswith("TMUPLOAD_")]:
        del os.environ[key]
    os.environ.update(extra)
    from tmupload.cli.app import main as cli_main

    clock = PhaseClock(trace)
    wrapped = [label for label, module, name in STEPS if _wrap(clock, label, module, name)]
    idle = _rss_kib()
    clock.start()
    started = time.perf_counter()
    code: Any = None
    with contextlib.redirect_stdout(sys.stderr):
        try:
            code = cli_main(args)
        except SystemExit as exc:
            code = exc.code
    wall = time.perf_counter() - started
    clock.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "returncode": code,
                "wall": wall,
                "idle_kib": idle,
                "maxrss_kib": peak,
                "wrapped": sorted(set(wrapped)),
                "steps": clock.rows,
            }
        ),
        flush=True,
    )


# -- the driver ---------------------------------------------------------------------------------


def _run_child(
    mode: str, target: str, url: str, path: Path, outbox: Path, src: str | None, *extra: str
) -> dict[str, Any]:
    from _common import source_env

    shutil.rmtree(outbox, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, mode, target, url, str(path), str(outbox), *extra],
        capture_output=True,
        text=True,
        check=False,
        env=source_env(src),
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{mode} {target} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    result["stderr"] = done.stderr[-2500:]
    left = sorted(p.name for p in outbox.iterdir()) if outbox.is_dir() else []
    result["outbox_left"] = [name for name in left if not name.startswith(".")]
    shutil.rmtree(outbox, ignore_errors=True)
    return result


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.0f}"


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--measure", "--phase-worker"):
        target, url, path, outbox = argv[1:5]
        if argv[0] == "--measure":
            measure(target, url, Path(path), Path(outbox))
        else:
            phases(target, url, Path(path), Path(outbox), "--tracemalloc" in argv[5:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--keep", type=Path, help="write the JUnit files here and keep them")
    parser.add_argument("--src", help="import tmupload (client and emulator) from this src/")
    parser.add_argument("--phases", action="store_true", help="where the memory goes, by step")
    parser.add_argument("--tracemalloc", action="store_true", help="with --phases: Python peaks")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per row")
    parser.add_argument(
        "--import-args", default="", help="more options for tmupload import, e.g. '--attach none'"
    )
    args = parser.parse_args(argv)

    from _common import EmulatorProcess, print_machine
    from bigfile import write_big_junit

    os.environ["BENCH_IMPORT_ARGS"] = args.import_args  # the children read it
    print_machine()
    if args.import_args:
        print(f"tmupload import options: {args.import_args}", flush=True)
    if args.src:
        print(f"measured tree: {args.src}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}", flush=True)
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-upload-"))
    directory.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-import-upload-outbox-"))
    rows: list[tuple[int, str, dict[str, Any]]] = []
    try:
        for cases in args.cases:
            path = directory / f"junit-{cases}.xml"
            if not path.is_file():
                write_big_junit(path, cases)
            for target in args.targets:
                for _ in range(args.repeat):
                    with EmulatorProcess(target, src=args.src) as emulator:
                        outbox = scratch / "outbox"
                        if args.phases:
                            extra = ("--tracemalloc",) if args.tracemalloc else ()
                            result = _run_child(
                                "--phase-worker",
                                target,
                                emulator.url,
                                path,
                                outbox,
                                args.src,
                                *extra,
                            )
                        else:
                            result = _run_child(
                                "--measure", target, emulator.url, path, outbox, args.src
                            )
                    rows.append((cases, target, result))
                    _print_row(cases, target, result)
            if args.keep is None:
                path.unlink()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    print()
    print("| cases | target | exit | wall s | CPU s | peak RSS MiB |")
    print("|---:|---|---:|---:|---:|---:|")
    for cases, target, result in rows:
        cpu = f"{result['cpu']:.1f}" if "cpu" in result else "-"
        print(
            f"| {cases:,} | {target} | {result['returncode']} | {result['wall']:.1f} | {cpu} | "
            f"{_mib(result['maxrss_kib'])} |"
        )


def _print_row(cases: int, target: str, result: dict[str, Any]) -> None:
    cpu = f"{result['cpu']:6.1f} s CPU" if "cpu" in result else ""
    print(
        f"  {cases:>9,} cases {target:<7} exit {result['returncode']} "
        f"{result['wall']:7.1f} s wall {cpu} {_mib(result['maxrss_kib']):>6} MiB peak RSS"
        + (f"  (outbox left: {result['outbox_left']})" if result["outbox_left"] else ""),
        flush=True,
    )
    if result["returncode"] != 0:
        print(result.get("tail") or result.get("stderr"), flush=True)
    steps: dict[str, dict[str, float]] = result.get("steps") or {}
    if steps:
        print(f"    idle {_mib(result['idle_kib'])} MiB; by step (peak / at end MiB, s):")
        for label, row in steps.items():
            py = f", Python peak {row['py_peak'] / 2**20:,.0f} MiB" if row["py_peak"] else ""
            print(
                f"    {label:<18} {_mib(row['peak_kib']):>6} / {_mib(row['end_kib']):>6}"
                f"  {row['seconds']:7.2f} s ({int(row['calls'])}x){py}",
                flush=True,
            )


if __name__ == "__main__":
    main()
