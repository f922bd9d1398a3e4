"""Session end: what a whole test session pays after its last test, per kind of reporting.

Run: ``.venv/bin/python benchmarks/bench_session_end.py [--quick]`` (``--help`` for the knobs);
with the tree before a change side by side and allure-pytest from its own directory::

    .venv/bin/python benchmarks/bench_session_end.py --quick \\
        --before-src /tmp/tmupload-base/src --allure-site /tmp/allure-site

On this machine (2 cores) with every variant and ``--before-src``: ``--quick`` (2,000 tests,
serial and ``-n 2``, 2 rounds, 64 sessions) about 7 minutes when the machine is quiet, 11
under a load average of 3; the full run (2,000 tests × 3 rounds and 10,000 × 2) about 35
minutes when quiet, much more when loaded (the 10,000-test ``-n 2`` sessions run 2-3 times as
long under a load average of 5-8). ``--sizes 2000`` and ``--sizes 10000`` can run apart.

The suite (generated per size in a scratch directory, with its own ``pytest.ini`` that
registers the ``ticket`` marker so every variant is equal): ``--sizes`` (2,000 and 10,000)
one-line tests in files of 100; 1 % fail with a short assertion, 1 % are skipped, 0.1 % are
strict xfails, the rest pass; ``--tickets N`` failing tests carry ``@pytest.mark.ticket``
(none by default). Every session is ``python -m pytest -p no:cacheprovider -p _session_clock
-q [-n 2] …`` in that directory, in a fresh process, with ``benchmarks/`` on ``PYTHONPATH`` so
that the helper plugin ``_session_clock.py`` loads (it stamps the end of the last test, the
``pytest_sessionfinish`` hooks and the last ``pytest_unconfigure``, counts the requests the
session's ``httpx`` transports send before and after the last test, and reads tmupload's own
outcome; httpx is imported by every session anyway, pytest-httpx being installed; with a tree
that delivers from a courier process (after 41a06f8) it also reaps the courier and stamps its
CPU and peak RSS, and it stamps the first test's start and the process's peak RSS). Variants:

* ``bare``: ``-p no:tmupload -p no:allure_pytest`` (the plugin as if not installed);
* ``off``: ``-p no:allure_pytest`` (installed, upload not enabled);
* ``junitxml``: bare + ``--junitxml=DIR/junit.xml``;
* ``allure``: ``-p no:tmupload --alluredir DIR --clean-alluredir`` with ``--allure-site`` first
  on ``PYTHONPATH`` (for this variant only; left out, with a message, when allure-pytest
  cannot be imported);
* ``tm-et``, ``tm-qtest``, ``tm-zephyr``: ``-p no:allure_pytest --tm-upload`` to that target's
  emulator with the default ``--tm-attach`` (an ``output.txt`` per failing test: what users
  get), the outbox in the scratch directory;
* ``tm-<t>-before`` (with ``--before-src DIR``): the same, importing tmupload from ``DIR``
  (first on ``PYTHONPATH``); the emulator is the current tree's for both.

The current tree ("after") is a copy of the checkout's ``src/`` taken when the script starts
(printed with a fingerprint and the files that differ from HEAD; ``--after-rev REV``: that
commit's ``src/`` instead, by ``git archive``, leaving out others' uncommitted edits), first on
``PYTHONPATH`` of every other session, of the emulators, and on ``sys.path`` of this driver, so
that edits made to ``src/`` during the run do not mix two trees (``--live-src`` imports the
checkout as is). ``--before-src`` is copied too (without ``__pycache__``).

``--bytecode on,off`` runs every size and ``-n`` twice: ``on`` as below (bytecode caches in
``PYTHONPYCACHEPREFIX``, warm after the first session), ``off`` with
``PYTHONDONTWRITEBYTECODE=1`` and no prefix: the installed packages' own ``__pycache__`` (pip's)
are read, while the test files and the tmupload tree (and so the courier's imports) are
compiled from source in every session.

each serial and with ``-n 2`` (pytest-xdist), and the tm variants against two server speeds:
``fast`` (the emulators' own delays 0: ET ``import_delay`` and ``link_delay``, qTest
``job_delay``) and ``slow`` (a realistic import: ET ``import_delay`` 0.5 s, qTest ``job_delay``
0.5 s per queue job; Zephyr imports synchronously, so it gets a ``latency`` of
``ZEPHYR_SLOW_LATENCY`` = 20 ms on every request instead, a round trip to a server that is not
on loopback: with its ~150 requests for 2,000 tests and ~700 for 10,000 this adds about as
much to its upload as qTest's job delay adds to qTest's, about 2 s and 10 s); ``laggy``: every
answer of every target takes ``LAGGY_LATENCY`` = 0.5 s (the emulators' ``latency``; ET's and
qTest's delays 0), so that the server's own time after the last test is the time its requests
after it were being answered; ``crawl``: the same with 3 s (when the first test starts
against a server that slow). The non-tm variants run once per size and ``-n``, not per speed:
they are the same rows in every speed's tables.

Each emulator (one per target and speed) runs in a process of its own (``_common.serve``,
behind ``_common.RequestTimes``, which stamps each request's arrival and answer on the clock of
every process), reset before every session and primed with a one-case upload of another test,
so that the placement exists as in every run after the first (``--first-upload`` leaves that
out). The variants of one size and ``-n`` run round-robin, the first moving by one each round;
each round goes through every size and ``-n``: ``--rounds`` (3) rounds, of which sizes of
10,000 tests and more run ``--large-rounds`` (2, so that the full run fits in about half an
hour). Before the rounds: one unmeasured session of every variant (and speed) at the smallest
size, and one ``bare`` session of every other size and ``-n`` (bytecode caches on, in
``PYTHONPYCACHEPREFIX`` in the scratch directory, as in a normal checkout; the emulators' first
answers); ``--no-warm-up`` leaves them out, ``--warm-up-bare`` runs one bare session per
size and ``-n`` only.

Figures per session: the wall time of the pytest process (the driver's ``time.monotonic()``;
one clock for all processes on Linux), its CPU (user + sys, with its xdist workers:
``RUSAGE_CHILDREN``), the session end (last test end to the last ``pytest_unconfigure``, and to
the process exit as the driver sees it), the CPU the session's own process spent from the last
test's end to the last ``pytest_unconfigure`` (``its CPU s``: every thread of the process, not
the xdist workers, not the server; the rest of that span is waiting), tmupload's own upload
seconds, the requests the session sent after the last test and during the tests, and the
emulator's own request count (the priming upload left out). Every session's exit status is
checked (1: some tests fail) and so is every upload (``upload_ok`` of the clock plugin). Also
per session: when the first test's setup began, from the driver's launch of the process (in the
xdist worker that ran it); and, serial, the CPU the pytest process spent until then (beyond
bare's: what the plugin costs before the first test); the pytest process's peak RSS (``VmHWM``,
the controller under xdist); the courier's CPU and peak RSS; from the emulator's stamps: its
requests that arrived during the tests and after the last one, and how long it was busy
answering after the last test ("server busy after"; the union of the requests' spans), so that
"end beyond the server" (last test to exit less that) is what the session end cost besides the
server's own time. Printed: the commands, the machine, and one Markdown table per size, ``-n``,
bytecode mode and server speed; "wall beyond bare" is the median of each round's wall time less
the same round's bare session's (with the smallest and largest), "beyond bare" a variant's
median session end to exit less bare's. Raw figures: ``benchmarks/out/session_end.json``. """

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    HERE,
    EmulatorProcess,
    fmt_table,
    importable,
    machine,
    median,
    prime,
    print_machine,
    pytest_target_args,
    run_clocked,
    session_env,
)

TARGETS = ("et", "qtest", "zephyr")
BASE_VARIANTS = ("bare", "off", "junitxml", "allure")
BEFORE_SUFFIX = "-before"
SPEEDS = ("fast", "slow", "laggy", "crawl")
#: Seconds added to every Zephyr request at the slow speed (see the docstring).
ZEPHYR_SLOW_LATENCY = 0.02
#: Seconds every answer takes at the ``laggy`` and ``crawl`` speeds (every target).
LAGGY_LATENCY = 0.5
CRAWL_LATENCY = 3.0
#: ``EmulatorConfig`` fields per speed and target.
EMULATOR_CONFIG: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {
        "et": {"import_delay": 0.0, "link_delay": 0.0},
        "qtest": {"job_delay": 0.0},
        "zephyr": {},
    },
    "slow": {
        "et": {"import_delay": 0.5},  # link_delay stays at its default, 0.02 s
        "qtest": {"job_delay": 0.5},
        "zephyr": {"latency": ZEPHYR_SLOW_LATENCY},
    },
    # Every answer takes the latency and nothing else does: the server's own time after the
    # last test is the time its requests after it were being answered.
    "laggy": {
        "et": {"import_delay": 0.0, "link_delay": 0.0, "latency": LAGGY_LATENCY},
        "qtest": {"job_delay": 0.0, "latency": LAGGY_LATENCY},
        "zephyr": {"latency": LAGGY_LATENCY},
    },
    "crawl": {
        "et": {"import_delay": 0.0, "link_delay": 0.0, "latency": CRAWL_LATENCY},
        "qtest": {"job_delay": 0.0, "latency": CRAWL_LATENCY},
        "zephyr": {"latency": CRAWL_LATENCY},
    },
}
BYTECODE = ("on", "off")
ROOT = HERE.parent
TESTS_PER_FILE = 100
#: Sizes from this one on run ``--large-rounds`` rounds.
LARGE = 10_000


def generate_suite(root: Path, tests: int, tickets: int = 0) -> dict[str, int]:
    """Write ``tests`` one-line tests in files of 100; return how many of each kind."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text(
        "[pytest]\n"
        "markers =\n"
        "    ticket(*keys): defect tickets (registered here so every variant is equal)\n",
        encoding="utf-8",
    )
    counts = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0, "ticketed": 0}
    number = 0
    for index in range((tests + TESTS_PER_FILE - 1) // TESTS_PER_FILE):
        parts = ["import pytest\n"]
        for _ in range(min(TESTS_PER_FILE, tests - number)):
            name = f"test_{number:05d}"
            if number % 100 == 50:  # 1 % failures, a short assertion traceback each
                ticket = ""
                if counts["ticketed"] < tickets:
                    ticket = '@pytest.mark.ticket("PAY-17")\n'
                    counts["ticketed"] += 1
                parts.append(
                    f"{ticket}def {name}():\n"
                    f"    expected = {number}\n"
                    "    assert expected + 1 == expected, 'off by one'\n"
                )
                counts["failed"] += 1
            elif number % 100 == 75:  # 1 % skips
                parts.append(
                    f"@pytest.mark.skip(reason='not on this platform')\ndef {name}():\n    pass\n"
                )
                counts["skipped"] += 1
            elif number % 1000 == 25:  # 0.1 % expected failures
                parts.append(
                    f"@pytest.mark.xfail(reason='known bug', strict=True)\ndef {name}():\n"
                    "    assert 1 == 2\n"
                )
                counts["xfailed"] += 1
            else:
                parts.append(f"def {name}():\n    assert {number} >= 0\n")
                counts["passed"] += 1
            number += 1
        (root / f"test_part{index:03d}.py").write_text("\n".join(parts), encoding="utf-8")
    return counts


def pin_src(dest: Path, rev: str | None = None) -> str:
    """Copy the checkout's ``src/`` (or, with ``rev``, that commit's: ``git archive``) to
    ``dest`` (the "after" tree of the whole run) and import tmupload from it in this process
    too (the priming uploads); return its path."""
    if rev is None:
        shutil.copytree(ROOT / "src", dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        unpacked = dest.parent / f"{dest.name}-archive"
        unpacked.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(unpacked)], input=archive, check=True)
        (unpacked / "src").rename(dest)
        unpacked.rmdir()
    sys.path.insert(0, str(dest))
    return str(dest)


def rev_of(rev: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()


def describe_tree(src: Path, rev: str | None = None) -> str:
    """The copy of src/: its fingerprint and the files that differ from HEAD (or: the commit
    it was taken from)."""
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*.py")):
        digest.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split("\n")
    files = [line[3:] for line in changed if line.strip()]
    if rev is not None:
        return (
            f"src/ of {rev} ({rev_of(rev)}, git archive) in {src} (sha256 of its .py files "
            f"{digest.hexdigest()[:12]})"
        )
    return (
        f"a copy of src/ taken at the start, in {src} (sha256 of its .py files "
        f"{digest.hexdigest()[:12]}; differing from HEAD: {', '.join(files) or 'none'})"
    )


def target_of(variant: str) -> str | None:
    """``et`` for ``tm-et`` and ``tm-et-before``; None for a variant that does not upload."""
    if not variant.startswith("tm-"):
        return None
    return variant.removeprefix("tm-").removesuffix(BEFORE_SUFFIX)


@dataclass
class Bench:
    scratch: Path
    after_src: str | None
    before_src: str | None
    allure_site: str | None
    first_upload: bool
    timed: bool = True
    emulators: dict[tuple[str, str], EmulatorProcess] = field(default_factory=dict)
    suites: dict[int, Path] = field(default_factory=dict)
    counts: dict[int, dict[str, int]] = field(default_factory=dict)

    def emulator(self, variant: str, speed: str) -> EmulatorProcess | None:
        target = target_of(variant)
        return None if target is None else self.emulators[(target, speed)]

    def command(self, variant: str, speed: str, workers: int) -> tuple[list[str], dict[str, str]]:
        """The pytest command line of ``variant`` and what its environment adds."""
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "_session_clock"]
        cmd.append("-q")
        if workers:
            cmd += ["-n", str(workers)]
        if variant == "bare":
            return [*cmd, "-p", "no:tmupload", "-p", "no:allure_pytest"], {}
        if variant == "off":
            return [*cmd, "-p", "no:allure_pytest"], {}
        if variant == "junitxml":
            junit = f"--junitxml={self.scratch / 'junit.xml'}"
            return [*cmd, "-p", "no:tmupload", "-p", "no:allure_pytest", junit], {}
        if variant == "allure":
            allure = ["--alluredir", str(self.scratch / "allure"), "--clean-alluredir"]
            return [*cmd, "-p", "no:tmupload", *allure], {}
        emulator = self.emulator(variant, speed)
        target = target_of(variant)
        assert emulator is not None and target is not None, variant
        args, env = pytest_target_args(target, emulator.url)
        outbox = ["--tm-outbox", str(self.scratch / "outbox")]
        return [*cmd, "-p", "no:allure_pytest", *args, *outbox], env

    def path(self, variant: str) -> list[str]:
        """What goes first on the session's ``PYTHONPATH``."""
        if variant.endswith(BEFORE_SUFFIX):
            assert self.before_src is not None
            return [self.before_src]
        path = [self.after_src] if self.after_src else []
        if variant == "allure" and self.allure_site:
            return [self.allure_site, *path]
        return path

    def shown(self, variant: str, speed: str, workers: int) -> str:
        command, extra = self.command(variant, speed, workers)
        env = dict(extra)
        path = self.path(variant)
        if path:
            env = {"PYTHONPATH": ":".join([*path, str(HERE)]), **env}
        return " ".join([*(f"{k}={v}" for k, v in env.items()), *command])

    def run(
        self,
        size: int,
        workers: int,
        variant: str,
        speed: str,
        tag: str,
        bytecode: str = "on",
    ) -> dict[str, Any]:
        for leftover in ("junit.xml", "outbox", "allure"):
            path = self.scratch / leftover
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        emulator = self.emulator(variant, speed)
        seen = seen_times = 0
        if emulator is not None:
            emulator.reset()
            if not self.first_upload:
                prime(str(target_of(variant)), emulator.url, self.scratch)
            seen = len(emulator.requests())
            seen_times = len(emulator.times()) if self.timed else 0
        command, extra = self.command(variant, speed, workers)
        env = session_env(self.scratch, self.path(variant), extra, bytecode=bytecode == "on")
        log = self.scratch / "session.log"
        name = (
            f"{variant}{f' {speed}' if emulator else ''} size {size} -n {workers} "
            f"bytecode {bytecode} ({tag})"
        )
        result = run_clocked(command, self.suites[size], env, self.scratch / "clock.json", log)

        def fail(why: str) -> SystemExit:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
            return SystemExit(f"{name}: {why}; the output ({log}) ends:\n{tail}")

        expected = 1 if self.counts[size]["failed"] else 0
        if result["returncode"] != expected:
            raise fail(f"pytest exited {result['returncode']}, not {expected}")
        if result["tests"] != size:
            raise fail(f"{result['tests']} tests finished, not {size}")
        if emulator is not None:
            if "upload_ok" not in result:
                raise fail("the clock plugin found no tmupload outcome (ResultCollector.outcome)")
            if not result["upload_ok"]:
                raise fail(f"the upload failed: {result.get('upload_error')}")
            result["server_requests"] = len(emulator.requests()) - seen
            if self.timed:
                result.update(server_side(emulator.times()[seen_times:], result))
        if variant == "junitxml" and not (self.scratch / "junit.xml").is_file():
            raise fail("no junit.xml written")
        if variant == "allure" and not any((self.scratch / "allure").glob("*-result.json")):
            raise fail("no allure result written")
        result.update(
            size=size,
            workers=workers,
            variant=variant,
            speed=speed if emulator else "",
            bytecode=bytecode,
        )
        return result


def server_side(times: list[list[Any]], result: dict[str, Any]) -> dict[str, Any]:
    """What the emulator saw of one session, from its stamped requests (``RequestTimes``):
    the requests that arrived during the tests and after the last one; after it, how long
    the server was busy answering (the union of the requests' spans from the last test on),
    how long it was idle between the last test and its last answer (the client's own work
    and waits: gaps no request covered), how long the first request after it took to come,
    how long the process ran after the last answer, and the timeline of the requests after
    the last test (seconds from it: arrived, answered, method, path)."""
    end, exited = result["tests_end"], result["exit"]
    after = sorted((a, d) for a, d, *_ in times if d > end)
    busy = 0.0
    reach = end
    for arrived, answered in after:
        start = max(arrived, reach)
        if answered > start:
            busy += answered - start
            reach = answered
    answers = [d for _, d, *_ in times]
    arrivals_after = [a for a, _ in after if a >= end]
    timeline = [
        [round(a - end, 4), round(d - end, 4), method, path]
        for a, d, method, path in sorted(times)
        if d > end
    ]
    return {
        "server_idle_after": (max(answers) - end - busy) if after else None,
        "server_timeline": timeline,
        "server_during": sum(1 for a, *_ in times if a < end),
        "server_after": sum(1 for a, *_ in times if a >= end),
        "server_busy_after": busy,
        "first_request_after": (min(arrivals_after) - end) if arrivals_after else None,
        "last_answer_to_exit": (exited - max(answers)) if answers else None,
        "server_first_arrival": (min(a for a, *_ in times) - result["start"]) if times else None,
    }


def describe(result: dict[str, Any]) -> str:
    text = (
        f"{result['wall']:6.2f}s (CPU {result['cpu']:.2f}s), end to unconfigure "
        f"{result['session_end']:.2f}s, to exit {result['to_exit']:.2f}s, first test "
        f"{result.get('first_test_delay', float('nan')):.2f}s, peak "
        f"{result.get('peak_rss_mib') or float('nan'):.0f} MiB"
    )
    if "server_requests" in result:
        text += (
            f", upload {result.get('upload_seconds') or 0:.2f}s, requests "
            f"{result['end_requests']} after / {result['wire_requests_during_tests']} during "
            f"the tests (server {result['server_requests']}"
        )
        if "server_after" in result:
            text += (
                f": {result['server_during']} during / {result['server_after']} after, busy "
                f"{result['server_busy_after']:.2f}s after"
            )
        text += ")"
    if "courier_cpu" in result:
        text += (
            f", courier CPU {result['courier_cpu']:.2f}s peak "
            f"{result['courier_maxrss_mib']:.0f} MiB"
        )
    return text


def spread(values: list[float], fmt: str = "+.2f") -> str:
    """``median (min..max)``, or a bare median for one value."""
    if not values:
        return ""
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(median(values), fmt)} ({format(min(values), fmt)}..{format(max(values), fmt)})"


def optional(values: list[Any], fmt: str = ".2f") -> str:
    present = [v for v in values if v is not None]
    return format(median(present), fmt) if present else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,10000", help="tests per session, comma separated")
    parser.add_argument("--n", default="0,2", help="pytest-xdist -n values (0: serial)")
    parser.add_argument("--serial-only", action="store_true", help="the same as --n 0")
    parser.add_argument("--xdist-only", action="store_true", help="the same as --n 2")
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument(
        "--variants",
        default="",
        help="only these variants (comma separated names as printed; bare is always run)",
    )
    parser.add_argument(
        "--speeds", default="fast,slow", help=f"server speeds of the tm runs ({', '.join(SPEEDS)})"
    )
    parser.add_argument(
        "--bytecode",
        default="on",
        help="on: bytecode caches (PYTHONPYCACHEPREFIX); off: PYTHONDONTWRITEBYTECODE=1; "
        "'on,off': both, as two more groups",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--large-rounds",
        type=int,
        default=2,
        help=f"rounds of the sizes of {LARGE:,} tests and more (at most --rounds; default 2, "
        "so that the full run fits in about half an hour)",
    )
    parser.add_argument("--quick", action="store_true", help="--sizes 2000 --rounds 2")
    parser.add_argument("--tickets", type=int, default=0, help="failing tests with a ticket")
    parser.add_argument(
        "--before-src",
        help="a src/ directory to import tmupload from for the tm-<t>-before variants",
    )
    parser.add_argument(
        "--allure-site",
        help="a directory holding allure-pytest, put first on PYTHONPATH of the allure variant",
    )
    parser.add_argument(
        "--first-upload",
        action="store_true",
        help="do not prime the emulators: every session is the project's first upload",
    )
    parser.add_argument(
        "--live-src",
        action="store_true",
        help="import the checkout's src/ as it is at every moment of the run, instead of a copy "
        "taken at the start (others' edits during the run would then mix two trees)",
    )
    parser.add_argument(
        "--after-rev",
        help="take the after tree from this commit (git archive) instead of the checkout's src/",
    )
    parser.add_argument(
        "--no-warm-up", action="store_true", help="no unmeasured sessions before the rounds"
    )
    parser.add_argument(
        "--warm-up-bare",
        action="store_true",
        help="warm up with one bare session per size and -n only (e.g. 100,000 tests, where "
        "the first session compiles the suite and would not be like the others)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--out", default=str(HERE / "out" / "session_end.json"))
    args = parser.parse_args()
    if args.quick:
        args.sizes = "2000"
        args.rounds = 2
    if args.serial_only and args.xdist_only:
        parser.error("--serial-only and --xdist-only exclude each other")
    if args.serial_only:
        args.n = "0"
    if args.xdist_only:
        args.n = "2"
    sizes = sorted({int(s) for s in args.sizes.split(",") if s})
    modes = [b for b in args.bytecode.split(",") if b]
    if not modes or set(modes) - set(BYTECODE):
        parser.error("--bytecode: on, off or on,off")
    ns = [int(n) for n in args.n.split(",") if n]
    speeds = [s for s in args.speeds.split(",") if s]
    targets = [t for t in args.targets.split(",") if t]
    for speed in speeds:
        if speed not in SPEEDS:
            parser.error(f"unknown speed {speed!r}; choose from {', '.join(SPEEDS)}")
    for target in targets:
        if target not in TARGETS:
            parser.error(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    if not sizes or not ns or not speeds or args.rounds < 1 or args.large_rounds < 1:
        parser.error("--sizes, --n, --speeds and --(large-)rounds need at least one value each")

    def rounds_of(size: int) -> int:
        return min(args.rounds, args.large_rounds) if size >= LARGE else args.rounds

    if args.before_src and not (Path(args.before_src) / "tmupload").is_dir():
        parser.error(f"--before-src {args.before_src}: no tmupload package in it")

    variants = [*BASE_VARIANTS, *(f"tm-{t}" for t in targets)]
    if args.before_src:
        variants += [f"tm-{t}{BEFORE_SUFFIX}" for t in targets]
    if args.variants:
        wanted = {v for v in args.variants.split(",") if v}
        unknown = wanted - set(variants)
        if unknown:
            parser.error(
                f"unknown variant(s) {', '.join(sorted(unknown))}; choose from "
                f"{', '.join(variants)} (the -before ones need --before-src)"
            )
        variants = [v for v in variants if v == "bare" or v in wanted]
    probe_dir = Path(tempfile.gettempdir())
    if "allure" in variants:
        site = [args.allure_site] if args.allure_site else []
        if not importable("allure_pytest", session_env(probe_dir, site)):
            print("allure-pytest is not importable (see --allure-site): leaving out allure")
            variants.remove("allure")
    plan = [(v, s) for v in variants for s in (speeds if target_of(v) else [""])]
    groups = [(size, n, mode) for mode in modes for size in sizes for n in ns]

    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-session-end-"))
    after_src = None if args.live_src else pin_src(scratch / "after-src", args.after_rev)
    before_src = None
    if args.before_src:  # a copy without bytecode caches, as the after tree
        before_src = str(scratch / "before-src")
        shutil.copytree(
            args.before_src, before_src, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )
    print_machine()
    print(f"load average at the start: {Path('/proc/loadavg').read_text().strip()}", flush=True)
    if after_src:
        print(f"after: {describe_tree(Path(after_src), args.after_rev)}", flush=True)
    if before_src:
        print(f"before: a copy of {args.before_src} in {before_src}", flush=True)
    trees: list[tuple[str, str | None]] = [("after", after_src)]
    if before_src:
        trees.append(("before", before_src))
    for label, path in trees:
        probe = [sys.executable, "-c", "import tmupload; print(tmupload.__file__)"]
        env = session_env(probe_dir, [path] if path else [])
        found = subprocess.run(probe, env=env, capture_output=True, text=True, check=False)
        origin = found.stdout.strip() or found.stderr.strip()[-500:]
        print(f"tmupload imported by the {label} sessions: {origin}", flush=True)
        if path and not origin.startswith(str(Path(path).resolve())):
            raise SystemExit(f"{path}: the {label} sessions would not import tmupload from it")
    bench = Bench(
        scratch,
        after_src,
        before_src,
        str(Path(args.allure_site).resolve()) if args.allure_site else None,
        args.first_upload,
    )
    for size in sizes:
        bench.suites[size] = scratch / f"suite-{size}"
        bench.counts[size] = generate_suite(bench.suites[size], size, args.tickets)
        print(f"suite: {size} tests in {bench.suites[size]} {bench.counts[size]}", flush=True)
    runs: list[dict[str, Any]] = []
    commands: dict[str, str] = {}
    started = time.perf_counter()
    ok = False
    # A plain `kill` must stop the emulators too: SystemExit runs the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for speed in speeds:
            for target in dict.fromkeys(t for v in variants if (t := target_of(v))):
                config = EMULATOR_CONFIG[speed][target]
                process = EmulatorProcess(target, config, after_src, timed=True)
                bench.emulators[(target, speed)] = process
                print(f"emulator [{target} {speed}]: {process.command}", flush=True)
        for n in ns:
            for variant, speed in plan:
                key = f"[{variant}{f' {speed}' if speed else ''} -n {n}]"
                commands[key] = bench.shown(variant, speed, n)
                print(f"command {key} (cwd suite-SIZE): {commands[key]}", flush=True)
        print(
            "every session also: BENCH_SESSION_CLOCK_OUT=FILE, PYTHONPATH ending with "
            f"{HERE}; bytecode on: PYTHONPYCACHEPREFIX={scratch / 'pycache'} and "
            "PYTHONDONTWRITEBYTECODE removed; bytecode off: PYTHONDONTWRITEBYTECODE=1 and no "
            "PYTHONPYCACHEPREFIX; emulators reset and "
            f"{'not primed' if args.first_upload else 'primed'} before each tm session",
            flush=True,
        )
        warm = time.perf_counter()
        if args.warm_up_bare and not args.no_warm_up:
            for group in groups:
                bench.run(group[0], group[1], "bare", "", "warm-up", group[2])
            print(f"warm-up: {time.perf_counter() - warm:.0f}s", flush=True)
        elif not args.no_warm_up:
            first = groups[0]
            for variant, speed in plan:
                bench.run(first[0], first[1], variant, speed, "warm-up", first[2])
            for group in groups[1:]:
                bench.run(group[0], group[1], "bare", "", "warm-up", group[2])
            print(f"warm-up: {time.perf_counter() - warm:.0f}s", flush=True)
        for round_no in range(args.rounds):
            shift = round_no % len(plan)
            for size, n, mode in groups:
                if round_no >= rounds_of(size):
                    continue
                for variant, speed in plan[shift:] + plan[:shift]:
                    result = bench.run(size, n, variant, speed, f"round {round_no + 1}", mode)
                    result["round"] = round_no
                    runs.append(result)
                    label = f"{variant}{f' {speed}' if speed else ''}"
                    print(
                        f"round {round_no + 1}/{rounds_of(size)} size {size} -n {n} bytecode "
                        f"{mode} {label:22} {describe(result)}",
                        flush=True,
                    )
        ok = True
    finally:
        for process in bench.emulators.values():
            process.stop()
        if ok and not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            print(f"scratch kept: {scratch}", flush=True)
    elapsed = time.perf_counter() - started

    summary: list[dict[str, Any]] = []
    for size, n, mode in groups:
        cell_runs = [
            r for r in runs if r["size"] == size and r["workers"] == n and r["bytecode"] == mode
        ]
        bare = {r["round"]: r for r in cell_runs if r["variant"] == "bare"}
        bare_wall = median(r["wall"] for r in bare.values())
        bare_exit = median(r["to_exit"] for r in bare.values())
        table_speeds = speeds if any(target_of(v) for v in variants) else [""]
        for speed in table_speeds:
            rows = []
            for variant, run_speed in plan:
                if run_speed not in ("", speed):
                    continue
                mine = [r for r in cell_runs if r["variant"] == variant and r["speed"] == run_speed]
                walls = [r["wall"] for r in mine]
                # Paired with the bare session of the same round (the same moment's load).
                extra = [r["wall"] - bare[r["round"]]["wall"] for r in mine]
                first = [
                    r["first_test_delay"] - bare[r["round"]]["first_test_delay"]
                    for r in mine
                    if "first_test_delay" in r and "first_test_delay" in bare[r["round"]]
                ]
                first_cpu = [  # serial sessions: this process ran the first test
                    r["cpu_at_first_test"] - bare[r["round"]]["cpu_at_first_test"]
                    for r in mine
                    if "cpu_at_first_test" in r and "cpu_at_first_test" in bare[r["round"]]
                ]
                row: dict[str, Any] = {
                    "size": size,
                    "workers": n,
                    "bytecode": mode,
                    "speed": speed,
                    "variant": variant,
                    "wall": median(walls),
                    "wall_min": min(walls),
                    "wall_max": max(walls),
                    "ratio_of_medians": median(walls) / bare_wall,
                    "median_round_ratio": median(
                        r["wall"] / bare[r["round"]]["wall"] for r in mine
                    ),
                    "wall_beyond_bare": median(extra),
                    "wall_beyond_bare_all": extra,
                    "cpu": median(r["cpu"] for r in mine),
                    "to_unconfigure": median(r["session_end"] for r in mine),
                    "end_cpu": median(r.get("session_end_cpu", 0.0) for r in mine),
                    "to_exit": median(r["to_exit"] for r in mine),
                    "beyond_bare": median(r["to_exit"] for r in mine) - bare_exit,
                    "first_test_delay": median(r.get("first_test_delay", 0.0) for r in mine),
                    "first_test_beyond_bare_all": first,
                    "cpu_to_first_test_beyond_bare_all": first_cpu,
                    "peak_rss_mib": median(r.get("peak_rss_mib") or 0.0 for r in mine),
                    "end_requests": median(r["end_requests"] for r in mine),
                    "requests_during_tests": median(r["wire_requests_during_tests"] for r in mine),
                    "server_requests": median(r.get("server_requests", 0) for r in mine),
                    "upload_seconds": median(r.get("upload_seconds") or 0 for r in mine),
                }
                for key in (
                    "server_during",
                    "server_after",
                    "server_busy_after",
                    "server_idle_after",
                    "first_request_after",
                    "last_answer_to_exit",
                    "courier_cpu",
                    "courier_maxrss_mib",
                ):
                    present = [r[key] for r in mine if r.get(key) is not None]
                    row[key] = median(present) if present else None
                if row["server_busy_after"] is not None:
                    row["end_beyond_server"] = median(
                        r["to_exit"] - r["server_busy_after"]
                        for r in mine
                        if r.get("server_busy_after") is not None
                    )
                summary.append(row)
                tm = target_of(variant) is not None
                rows.append(
                    [
                        variant,
                        f"{row['wall']:.2f} ({row['wall_min']:.2f}-{row['wall_max']:.2f})",
                        f"{row['ratio_of_medians']:.3f}",
                        "" if variant == "bare" else spread(extra),
                        f"{row['cpu']:.2f}",
                        optional([row["courier_cpu"]]),
                        f"{row['to_exit']:.2f}",
                        "" if variant == "bare" else f"{row['beyond_bare']:+.2f}",
                        f"{row['first_test_delay']:.2f}",
                        "" if variant == "bare" else spread(first),
                        "" if variant == "bare" else spread(first_cpu),
                        f"{row['peak_rss_mib']:.0f}",
                        optional([row["courier_maxrss_mib"]], ".0f"),
                        (
                            f"{row['server_during']:g} / {row['server_after']:g}"
                            if tm and row["server_during"] is not None
                            else ""
                        ),
                        optional([row["server_busy_after"]]) if tm else "",
                        optional([row["server_idle_after"]]) if tm else "",
                        optional([row.get("end_beyond_server")]) if tm else "",
                    ]
                )
            print()
            where = "serial" if not n else f"-n {n}"
            server = f", {speed} server" if speed else ""
            caches = "bytecode caches" if mode == "on" else "PYTHONDONTWRITEBYTECODE=1"
            print(f"{size:,} tests, {where}{server}, {caches} ({rounds_of(size)} rounds; medians):")
            print(
                fmt_table(
                    [
                        "variant",
                        "wall s (min-max)",
                        "wall / bare",
                        "wall beyond bare s (paired; min..max)",
                        "CPU s",
                        "courier CPU s",
                        "last test to exit s",
                        "beyond bare s",
                        "first test at s",
                        "first test beyond bare s",
                        "CPU before the first test beyond bare s",
                        "pytest peak MiB",
                        "courier peak MiB",
                        "server requests during / after the tests",
                        "server busy after the last test s",
                        "server idle between the last test and its last answer s",
                        "end beyond the server s",
                    ],
                    rows,
                )
            )
    print()
    print(f"{len(runs)} measured sessions, {elapsed:.0f}s in all (warm-up included)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "args": vars(args),
                "elapsed": elapsed,
                "suites": {str(size): counts for size, counts in bench.counts.items()},
                "emulator_config": EMULATOR_CONFIG,
                "commands": commands,
                "summary": summary,
                "runs": runs,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
