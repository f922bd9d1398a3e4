"""Where the plugin's time goes: py-spy samples of one pytest session of the overhead suite.

Run: ``.venv/bin/python benchmarks/profile_overhead.py [--variant tm-upload] [-n 2]``
(needs py-spy, not a project dependency: ``pip install py-spy`` into the environment, or
``pip install --target /tmp/pyspy-site py-spy`` and ``PATH=/tmp/pyspy-site/bin:$PATH``).

Generates the suite of ``bench_overhead.py``, serves the emulator from a thread of this
process, runs one session of the chosen variant under ``py-spy record --format raw
--full-filenames`` (``--subprocesses`` with ``-n``), then prints:

* the share of all samples whose stack holds a frame of ``src/tmupload`` (the plugin's own
  cost, including what it calls in pytest, pydantic, httpx ... and, in a serial session, the
  time it waits on the server): unlike a wall-time ratio, a share of samples is hardly moved
  by other load on the machine. Serial sessions are sampled with ``--idle --threads`` and
  only the main thread is counted (samples are then proportional to wall time); ``-n``
  sessions are sampled on-CPU in every process (controller and workers);
* that cost split by the outermost tmupload function on the stack (the hook or phase);
* the functions with the most samples at the top of those stacks (self time).

Samples of the emulator are not included: it is a thread of this driver process.
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import emulator_in_thread, print_machine
from bench_overhead import SERIAL, Runner, generate_suite

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::(?P<line>\d+))?\)$")


def parse_raw(path: Path) -> list[tuple[list[tuple[str, str, str]], int]]:
    stacks = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        body, _, count = line.rpartition(" ")
        if not body or not count.isdigit():
            continue
        frames = []
        for frame in body.split(";"):
            match = _FRAME.match(frame)
            if match:
                frames.append((match["func"], match["file"], match["line"] or ""))
            else:
                frames.append((frame, "", ""))
        stacks.append((frames, int(count)))
    return stacks


def find_py_spy() -> str:
    """The py-spy executable (on PATH or beside this Python), or exit saying how to get it."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit(
            "py-spy is not installed: pip install py-spy (or pip install --target DIR py-spy "
            "and put DIR/bin on PATH)"
        )
    return py_spy


def short(file: str) -> str:
    for marker in ("/src/", "/site-packages/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--variant", default="tm-upload", choices=SERIAL)
    parser.add_argument("-n", "--workers", type=int, default=0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    py_spy = find_py_spy()

    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-profile-"))
    suite = scratch / "suite"
    generate_suite(suite, args.tests)
    raw = scratch / "profile.txt"
    with emulator_in_thread() as (emulator, timed, url):
        runner = Runner(suite, scratch, emulator, timed, url)
        runner.warm_up(args.workers)
        cmd = runner.command(args.variant, args.workers)
        spy = [py_spy, "record", "--format", "raw", "--full-filenames", "-r", str(args.rate)]
        if args.workers:
            spy.append("--subprocesses")  # on-CPU samples of the controller and the workers
        else:
            spy += ["--idle", "--threads"]  # every sample of the main thread: wall time
        spy += ["-o", str(raw), "--", *cmd]
        print("command:", " ".join(spy), flush=True)
        started = time.perf_counter()
        subprocess.run(
            spy,
            cwd=suite,
            env=runner.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - started
    stacks = parse_raw(raw)
    if not args.workers:
        stacks = [
            (frames[1:], count)
            for frames, count in stacks
            if frames and frames[0][0].startswith("thread (") and "MainThread" in frames[0][0]
        ]
    total = sum(count for _, count in stacks)
    ours = 0
    by_entry: collections.Counter[str] = collections.Counter()
    by_self: collections.Counter[str] = collections.Counter()
    for frames, count in stacks:
        index = next((i for i, f in enumerate(frames) if "/tmupload/" in f[1]), None)
        if index is None:
            continue
        ours += count
        func, file, _ = frames[index]
        by_entry[f"{func} ({short(file)})"] += count
        func, file, line = frames[-1]
        by_self[f"{func} ({short(file)}:{line})"] += count
    print()
    print(
        f"{args.variant} -n {args.workers}: {args.tests} tests, {wall:.1f}s under py-spy, "
        f"{total} samples; with a tmupload frame on the stack: {ours} "
        f"({100.0 * ours / max(total, 1):.2f} %)"
    )
    print("\nby the outermost tmupload function (hook or phase):")
    for name, count in by_entry.most_common(args.top):
        print(f"  {100.0 * count / max(total, 1):6.2f} %  {count:6d}  {name}")
    print("\nself time (top of the stack) inside those samples:")
    for name, count in by_self.most_common(args.top):
        print(f"  {100.0 * count / max(total, 1):6.2f} %  {count:6d}  {name}")
    if args.keep:
        print(f"\nraw profile kept: {raw}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
