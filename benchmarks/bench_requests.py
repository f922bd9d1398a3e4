"""Requests per upload and wall time of ``tmupload import`` for big runs, per target, first and
second upload, against the emulators in strict mode, for one or more client trees side by side.

Run from the repository root (a script, not a test; CI does not run it)::

    nice -n 10 .venv/bin/python benchmarks/bench_requests.py \\
        --client before=41a06f8 --client after=HEAD --cases 100 2000 10000 100000

A ``--client`` or ``--emulator-src`` (default ``HEAD``) that is not a directory is a git
revision, pinned once as ``/tmp/tmupload-<short sha>/src`` (``git archive REV src``), so that
commits landing during a run change nothing; a ``PYTHONPATH`` entry wins over the editable
install. The emulators always run from ``--emulator-src`` (strict mode exists only in recent
trees), whatever the client.

For every (cases, target, client) a fresh emulator is started in a process of its own
(:class:`Emulator`: ``bench_requests.py --serve``, the same as ``_common.serve``; qTest and
Zephyr with ``EmulatorConfig(strict=True)``, ET with its default config, which has no strict
mode), always from ``--emulator-src``, whatever the client tree. The client is ``tmupload
import FILE --attach none`` in another process, with ``PYTHONPATH`` set to the client's
``src/`` and a fresh outbox; it runs twice against the same emulator: the *first* upload
(nothing exists on the server yet) and the *second* (the same file again: test cases, folders,
cycles already exist). The request count of an upload is the growth of the emulator's request
log (``GET <root>/_emulator/requests``; control requests are not logged) over that ``tmupload
import`` process; its wall time is the process's, start to exit, interpreter start-up and
reading the file included; beside it the CPU seconds of the client process (its rusage once
reaped) and of the emulator process (``/proc/PID/stat``) over the same upload, which tell whose
time the wall is. An upload that runs longer than ``--limit`` seconds is stopped (its requests
so far are counted) and its second upload is not run.

The JUnit file: ``cases`` testcases spread over 5 test files of 4 classes each (pytest's
``classname`` / ``file`` form), every 50th failing (2 %) with a short message, no captured
output, so nothing would be attached even without ``--attach none``.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

TARGETS = ("et", "qtest", "zephyr")
FILES = 5
CLASSES = 4
FAIL_EVERY = 50

#: Emulator config per target: strict where the emulator has a strict mode.
CONFIGS: dict[str, dict[str, Any]] = {
    "et": {},
    "qtest": {"strict": True},
    "zephyr": {"strict": True},
}


EMULATOR_PACKAGES = {
    "et": "tmupload.targets.et.emulator",
    "qtest": "tmupload.targets.qtest.emulator",
    "zephyr": "tmupload.targets.zephyr.emulator",
}


def serve(target: str, config_json: str) -> None:
    """Serve ``target``'s emulator (``EmulatorConfig(**config)``) on a free loopback port
    until terminated; printed first: ``emulator at URL`` (ET's with its application path)."""
    import importlib

    package = importlib.import_module(EMULATOR_PACKAGES[target])
    config = package.EmulatorConfig(**json.loads(config_json))

    def ready(url: str) -> None:
        print(f"emulator at {url}", flush=True)

    package.run_forever(config, "127.0.0.1", 0, ready)


class Emulator:
    """A target's emulator in a process of its own, from ``src``, read over ``/_emulator``."""

    def __init__(self, target: str, config: dict[str, Any], src: str) -> None:
        command = [sys.executable, __file__, "--serve", target, json.dumps(config)]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env["PYTHONPATH"] = str(Path(src).resolve())
        self.proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()
        if "emulator at " not in first:
            self.proc.kill()
            raise RuntimeError(
                f"the {target} emulator did not start: {first}{self.proc.stdout.read()}"
            )
        self.url = first.split("emulator at ", 1)[1].strip()

    def requests(self) -> list[list[Any]]:
        """The request log: ``[method, path, status]`` of every API request so far."""
        with urllib.request.urlopen(f"{self.url}/_emulator/requests", timeout=600) as answer:
            return list(json.loads(answer.read()))

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def write_junit(path: Path, cases: int) -> Path:
    """``cases`` pytest-style testcases in one ``<testsuite>``, 2 % failing, no output."""
    groups = FILES * CLASSES
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="utf-8"?>\n<testsuites name="pytest tests">\n')
        failures = sum(1 for n in range(cases) if n % FAIL_EVERY == FAIL_EVERY - 1)
        handle.write(
            f'  <testsuite name="pytest" errors="0" failures="{failures}" skipped="0" '
            f'tests="{cases}" time="{cases * 0.002:.3f}" timestamp="2026-12-02T08:00:00" '
            'hostname="bench">\n'
        )
        for number in range(cases):
            group = number % groups
            module = f"test_module{group // CLASSES}"
            classname = f"tests.{module}.TestFeature{group % CLASSES}"
            head = (
                f'    <testcase classname="{classname}" name="test_case_{number:06d}" '
                f'file="tests/{module}.py" line="{10 + number % 900}" time="0.002"'
            )
            if number % FAIL_EVERY == FAIL_EVERY - 1:
                handle.write(
                    f'{head}>\n      <failure message="AssertionError: expected {number} but '
                    f'was {number + 1}">def test_case_{number:06d}():\n&gt;       assert '
                    f"{number} == {number + 1}\nE       AssertionError: expected {number} but "
                    f"was {number + 1}\n\ntests/{module}.py:{10 + number % 900}: "
                    "AssertionError</failure>\n    </testcase>\n"
                )
            else:
                handle.write(f"{head} />\n")
        handle.write("  </testsuite>\n</testsuites>\n")
    return path


def target_args(target: str, url: str) -> tuple[list[str], dict[str, str]]:
    """Flags and credentials for ``target``'s emulator (as tests/contract/servers.py has them)."""
    args = ["--target", target, "--url", url, "--project", "Demo"]
    if target == "zephyr":
        args += ["--release", "2026.4"]
    if target == "et":
        return args, {"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": "admin"}
    return args, {"TMUPLOAD_TOKEN": "demo-token"}


def tree(spec: str) -> str:
    """``spec`` as a ``src/`` directory: one that exists, else a git revision of this repository,
    pinned as ``/tmp/tmupload-<short sha>/src`` (``git archive REV src``; kept if already there),
    so that commits landing during the run change nothing."""
    if Path(spec).is_dir():
        return str(Path(spec).resolve())
    sha = subprocess.run(
        ["git", "rev-parse", "--short", f"{spec}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pinned = Path(tempfile.gettempdir()) / f"tmupload-{sha}"
    if not (pinned / "src" / "tmupload").is_dir():
        pinned.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "archive", sha, "src"], cwd=ROOT, capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(pinned)], input=archive, check=True)
    print(f"{spec} = {sha}: {pinned / 'src'}", flush=True)
    return str(pinned / "src")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process (``/proc/PID/stat``)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def route(path: str) -> str:
    return re.sub(r"/\d+", "/N", path)


def client_env(src: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUPLOAD_", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(Path(src).resolve())
    env.update(extra)
    return env


def statuses(log: list[list[Any]]) -> dict[str, int]:
    return dict(sorted(collections.Counter(str(entry[2]) for entry in log).items()))


def upload(
    emulator: Emulator, target: str, src: str, junit: Path, outbox: Path, limit: float, log: Path
) -> dict[str, Any]:
    """One ``tmupload import`` process against ``emulator``: requests, wall, outcome."""
    args, extra = target_args(target, emulator.url)
    command = [
        str(Path(sys.executable).parent / "tmupload"),
        "import",
        str(junit),
        *args,
        "--attach",
        "none",
        "--on-error",
        "fail",
        "--outbox",
        str(outbox),
        "--timeout",
        "900",
        "--deadline",
        "7200",
    ]
    before = len(emulator.requests())
    emulator_cpu = process_cpu(emulator.proc.pid)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed_out = False
    with log.open("w", encoding="utf-8") as handle:
        started = time.perf_counter()
        proc = subprocess.Popen(
            command,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=client_env(src, extra),
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGTERM)  # only the client we started
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code = proc.wait()
        wall = time.perf_counter() - started
    # The emulator is not reaped before it stops: the children's CPU is the client's alone.
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (reaped.ru_utime - children.ru_utime) + (reaped.ru_stime - children.ru_stime)
    emulator_cpu = process_cpu(emulator.proc.pid) - emulator_cpu
    entries = emulator.requests()[before:]
    left = (
        sorted(p.name for p in outbox.iterdir() if not p.name.startswith("."))
        if outbox.is_dir()
        else []
    )
    output = log.read_text(encoding="utf-8", errors="replace")
    errors = [entry for entry in entries if int(entry[2]) >= 400 or int(entry[2]) == 0]
    return {
        "command": command,
        "returncode": code,
        "timed_out": timed_out,
        "wall": wall,
        "client_cpu": client_cpu,
        "emulator_cpu": emulator_cpu,
        "requests": len(entries),
        "by_route": dict(
            collections.Counter(f"{e[0]} {route(str(e[1]))}" for e in entries).most_common()
        ),
        "statuses": statuses(entries),
        "first_errors": errors[:5],
        "outbox_left": left,
        "ok": code == 0 and not timed_out and not left,
        "tail": output[-3000:],
    }


def cell(result: dict[str, Any] | None, cpu: bool = False) -> str:
    """An upload as a table cell; ``cpu``: with (client CPU s / emulator CPU s)."""
    if result is None:
        return "not run"
    if result["timed_out"]:
        return (
            f"not measured (over {result['wall'] / 60:.0f} min; {result['requests']:,} req so far)"
        )
    text = f"{result['requests']:,} req, {result['wall']:.1f} s"
    if cpu:
        text += f" (CPU {result['client_cpu']:.1f} / {result['emulator_cpu']:.1f})"
    if not result["ok"]:
        codes = sorted({int(e[2]) for e in result["first_errors"]})
        why = f"HTTP {', '.join(map(str, codes))}" if codes else f"exit {result['returncode']}"
        text = f"failed ({why}): " + text
    return text


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        serve(argv[1], argv[2])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100, 2_000, 10_000, 100_000])
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument(
        "--client",
        action="append",
        required=True,
        metavar="LABEL=SRC",
        help="a client: label and its src/ directory or git revision (repeat; run in this order)",
    )
    parser.add_argument(
        "--emulator-src", default="HEAD", help="src/ (or git revision) the emulators run from"
    )
    parser.add_argument("--limit", type=float, default=900.0, help="seconds before an upload stops")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "bench_requests.json")
    args = parser.parse_args(argv)
    pairs = [item.split("=", 1) for item in args.client]
    clients = [(label, tree(spec)) for label, spec in pairs]
    emulator_src = tree(args.emulator_src)

    from _common import print_machine

    print_machine()
    print(f"command: {' '.join(sys.argv)}", flush=True)
    print(f"emulators from {emulator_src}; clients: {dict(clients)}", flush=True)
    for _, src in [*clients, ("emulator", emulator_src)]:  # no compiling inside a measure
        subprocess.run([sys.executable, "-m", "compileall", "-q", src], check=True)
    scratch = Path(tempfile.mkdtemp(prefix="bench-requests-"))
    results: list[dict[str, Any]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc)
    for cases in args.cases:
        junit = write_junit(scratch / f"junit-{cases}.xml", cases)
        for target in args.targets:
            for label, src in clients:
                print(
                    f"{cases:>7,} {target:<6} {label:<7} (load {os.getloadavg()[0]:.1f})",
                    end=" ",
                    flush=True,
                )
                row: dict[str, Any] = {"cases": cases, "target": target, "client": label}
                with Emulator(target, CONFIGS[target], emulator_src) as emulator:
                    for upload_no in ("first", "second"):
                        if upload_no == "second" and row["first"]["timed_out"]:
                            row["second"] = None
                            break
                        outbox = scratch / f"outbox-{cases}-{target}-{label}-{upload_no}"
                        log = scratch / f"log-{cases}-{target}-{label}-{upload_no}.txt"
                        row[upload_no] = upload(
                            emulator, target, src, junit, outbox, args.limit, log
                        )
                        print(
                            f"{upload_no}: {cell(row[upload_no], cpu=True)};", end=" ", flush=True
                        )
                print(flush=True)
                for upload_no in ("first", "second"):
                    result = row.get(upload_no)
                    if result and not result["ok"]:
                        print(f"  {upload_no} upload: {result['first_errors']}\n{result['tail']}")
                results.append(row)
                args.out.write_text(
                    json.dumps({"started": started.isoformat(), "rows": results}, indent=1),
                    encoding="utf-8",
                )
        junit.unlink()
    print()
    print(f"started {started:%Y-%m-%d %H:%M} UTC, finished {datetime.now(timezone.utc):%H:%M} UTC")
    print(
        "| cases | target | client | first upload: requests, wall (CPU s client / emulator) "
        "| second upload | 10 + N/50 |"
    )
    print("|---:|---|---|---|---|---:|")
    for row in results:
        print(
            f"| {row['cases']:,} | {row['target']} | {row['client']} "
            f"| {cell(row.get('first'), cpu=True)} | {cell(row.get('second'), cpu=True)} "
            f"| {10 + row['cases'] // 50:,} |"
        )
    print(f"\nfigures: {args.out}; logs in {scratch}")


if __name__ == "__main__":
    main()
