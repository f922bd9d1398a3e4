"""Where a session end's CPU goes, per target: py-spy samples of one clocked pytest session.

Run: ``.venv/bin/python benchmarks/profile_session_end.py --target et [--tests 10000] [-n 2]``
(needs py-spy: ``pip install --group bench -e .`` or ``pip install py-spy``).

Generates the suite of ``bench_session_end.py`` (1 % failing, each with the default
``output.txt`` attachment), starts the target's emulator in a process of its own with its
delays at 0 (``fast``), primes it as that benchmark does, and runs one session with
``-p _session_clock`` under ``py-spy record --format raw --threads --subprocesses`` (on-CPU
samples of every thread of the session's process and of its children: the courier that
delivers since ffed6d3, and under ``-n`` the xdist workers, whose samples are not counted).
``--src DIR`` imports tmupload from ``DIR`` (first on ``PYTHONPATH``; e.g. a ``git archive`` of
a commit), the emulator included. Printed:

* the clock's figures: last test end to the last ``pytest_unconfigure`` (wall), and the CPU
  the process spent in that span (``time.process_time()``, every thread): the rest of the
  span is waiting, mostly for the server;
* CPU seconds (samples / rate) of tmupload's work by phase: configure, the per-test hooks,
  each step of the session end (``pytest_sessionfinish`` split by the functions it calls),
  tmupload's worker threads (attachments, links), ``pytest_unconfigure``, the terminal
  summary; and what pytest itself does at its end (``summary_failures``, the
  unraisableexception plugin's ``gc.collect()``), which bare sessions pay as well;
* with a courier: the pytest process's session end (``ResultCollector._finish``: the entry's
  header written, the courier waited for) and the courier's CPU by phase: its start-up
  imports, following the entry while the tests run (each step below ``_follow``), what it
  does once the entry is complete (each step below ``deliver_entry`` and
  ``deliver_spooled``), and its threads (the lookups, the stdin reader, ticket links).

py-spy's sampling costs the session some speed: read shares, not absolute seconds.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import EmulatorProcess, prime, print_machine, pytest_target_args, run_clocked
from bench_session_end import generate_suite
from profile_overhead import find_py_spy, parse_raw, short

#: (label, a frame whose function and file name this phase) -- the first match on a stack wins,
#: from the outermost frame in, so a phase counts everything it calls.
PHASES: tuple[tuple[str, str, str], ...] = (
    ("configure (imports, settings, target)", "pytest_configure", "tmupload/plugin.py"),
    ("per-test hooks", "pytest_runtest_logreport", "tmupload/pytest/collector.py"),
    ("per-test hooks", "pytest_runtest_logfinish", "tmupload/pytest/collector.py"),
    ("session start (stream, head start)", "pytest_sessionstart", "tmupload/pytest/collector.py"),
    ("session end (ours: header, waiting)", "_finish", "tmupload/pytest/collector.py"),
    ("terminal summary (ours)", "pytest_terminal_summary", "tmupload/pytest/collector.py"),
    ("unconfigure (ours: the run let go)", "pytest_unconfigure", "tmupload/pytest/collector.py"),
    ("pytest: failures summary", "summary_failures", "_pytest/terminal.py"),
    ("pytest: gc.collect at unconfigure", "gc_collect_harder", "_pytest/unraisableexception.py"),
)
_END = ("ResultCollector._build_and_upload", "tmupload/pytest/collector.py")
_WRAPPERS = {"upload", "_deliver", "deliver"}


#: The courier's command line (``python -m tmupload _courier``), as py-spy names its process.
_COURIER = "-m tmupload _courier"
_COURIER_WRAPPERS = {"main", "deliver_entry", "deliver_spooled", "_deliver", "deliver"}


def courier_phase_of(frames: list[tuple[str, str, str]]) -> str:
    """The phase of a stack of the courier process (its own frames, no process/thread ones)."""
    funcs = [f[0].rsplit(".", 1)[-1] for f in frames]

    def below(name: str, label: str) -> str:
        index = funcs.index(name)
        inner = next(
            (
                f
                for f in frames[index + 1 :]
                if "/tmupload/" in f[1] and f[0].rsplit(".", 1)[-1] not in _COURIER_WRAPPERS
            ),
            frames[-1],
        )
        return f"courier, {label}: {inner[0]} ({short(inner[1])})"

    if "_find_and_load" in funcs and "deliver_entry" not in funcs:
        return "courier: start-up imports"
    if "deliver_spooled" in funcs:
        return below("deliver_spooled", "after complete")
    if "_follow" in funcs:
        return below("_follow", "following the entry")
    if "deliver_entry" in funcs:
        return below("deliver_entry", "deliver_entry")
    ours = next((f for f in frames if "/tmupload/" in f[1]), None)
    if ours is not None:
        return f"courier thread: {ours[0]} ({short(ours[1])})"
    return "courier: other (interpreter start and exit)"


def split_process(frames: list[tuple[str, str, str]]) -> tuple[str, list[tuple[str, str, str]]]:
    """("courier" | "pytest" | "child", the stack without py-spy's process and thread
    frames): the innermost process frame names the process the sample is of."""
    processes = [f[0] for f in frames if f[0].startswith("process ")]
    rest = [f for f in frames if not f[0].startswith(("process ", "thread ("))]
    if not processes or len(processes) == 1:
        return "pytest", rest
    return ("courier" if _COURIER in processes[-1] else "child"), rest


def phase_of(frames: list[tuple[str, str, str]]) -> str | None:
    """The phase a stack belongs to (None: not ours, not one of pytest's end steps)."""
    for index, (func, file, _line) in enumerate(frames):
        if func == _END[0] and file.endswith(_END[1]):
            # The first tmupload step below the wrappers (upload, _deliver, deliver).
            inner = next(
                (
                    f
                    for f in frames[index + 1 :]
                    if "/tmupload/" in f[1] and f[0].rsplit(".", 1)[-1] not in _WRAPPERS
                ),
                frames[-1],
            )
            return f"session end: {inner[0]} ({short(inner[1])})"
        for label, name, where in PHASES:
            # py-spy names methods by their qualified name (ResultCollector.pytest_…)
            if func.rsplit(".", 1)[-1] == name and file.endswith(where):
                return label
    if frames and any("/tmupload/" in file for _, file, _ in frames):
        # Outside every hook: tmupload's own threads (attachments, links, the head start).
        first = next(f for f in frames if "/tmupload/" in f[1])
        return f"thread: {first[0]} ({short(first[1])})"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="et", choices=("et", "qtest", "zephyr"))
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("-n", "--workers", type=int, default=0)
    parser.add_argument("--rate", type=int, default=500, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--raw", help="keep py-spy's raw samples in this file")
    parser.add_argument(
        "--src", help="a src/ directory to import tmupload from (first on PYTHONPATH)"
    )
    args = parser.parse_args()
    src = str(Path(args.src).resolve()) if args.src else None
    if src:
        sys.path.insert(0, src)  # the priming upload too
    py_spy = find_py_spy()

    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-profile-end-"))
    suite = scratch / "suite"
    generate_suite(suite, args.tests)
    emulator = EmulatorProcess(args.target, {}, src)
    try:
        prime(args.target, emulator.url, scratch)
        target_args, target_env = pytest_target_args(args.target, emulator.url)
        session = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p"]
        session += ["_session_clock", "-q", "-p", "no:randomly", "-p", "no:allure_pytest"]
        session += [*target_args, "--tm-outbox", str(scratch / "outbox")]
        if args.workers:
            session += ["-n", str(args.workers)]
        raw = scratch / "profile.txt"
        spy = [py_spy, "record", "--format", "raw", "--full-filenames", "--threads"]
        spy += ["--subprocesses"]
        spy += ["-r", str(args.rate), "-o", str(raw), "--", *session]
        env = {key: value for key, value in os.environ.items() if not key.startswith("TMUPLOAD_")}
        env.update(target_env)
        env["PYTHONPATH"] = os.pathsep.join(
            [
                *filter(None, [src]),
                str(Path(__file__).resolve().parent),
                *filter(None, [env.get("PYTHONPATH")]),
            ]
        )
        print("command:", " ".join(spy), flush=True)
        stamps = run_clocked(spy, suite, env, scratch / "clock.json", scratch / "session.log")
    finally:
        emulator.stop()
    if not stamps.get("upload_ok"):
        raise SystemExit(f"the upload failed: {stamps.get('upload_error')}")

    totals: collections.Counter[str] = collections.Counter()
    processes: collections.Counter[str] = collections.Counter()
    for frames, count in parse_raw(raw):
        # --subprocesses puts "process PID:cmd" frames first (one per generation), --threads
        # a "thread (…)" frame after them.
        process, stack = split_process(frames)
        processes[process] += count
        if process == "courier":
            totals[courier_phase_of(stack)] += count
        elif process == "pytest":
            label = phase_of(stack)
            if label is not None:
                totals[label] += count
    print()
    print(
        f"{args.target}, {args.tests:,} tests, -n {args.workers}: last test end to unconfigure "
        f"{stamps['session_end']:.2f} s wall, {stamps.get('session_end_cpu', 0.0):.2f} s CPU "
        f"of this process; upload {stamps.get('upload_seconds') or 0:.2f} s; requests after "
        f"the tests {stamps['end_requests']}"
    )
    if "courier_cpu" in stamps:
        print(
            f"the courier: {stamps['courier_cpu']:.2f} s CPU (its rusage), peak RSS "
            f"{stamps['courier_maxrss_mib']:.0f} MiB; the pytest process's peak RSS "
            f"{stamps.get('peak_rss_mib') or 0:.0f} MiB"
        )
    print(
        "CPU seconds sampled per process: "
        + ", ".join(f"{name} {count / args.rate:.2f} s" for name, count in processes.items())
    )
    print(f"\nCPU seconds by phase ({args.rate} samples/s, on-CPU samples of every thread):")
    for label, count in totals.most_common(args.top):
        print(f"  {count / args.rate:7.3f} s  {label}")
    if args.raw:
        shutil.copyfile(raw, args.raw)
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
