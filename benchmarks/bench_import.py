"""Benchmark ``tmupload import``'s reader against junitparser on 100k and 1M testcase files.

Run from the repository root (a script, not a test; CI does not run it)::

    python benchmarks/bench_import.py            # 100,000 and 1,000,000 testcases
    python benchmarks/bench_import.py --cases 100000 --keep /var/tmp/bench-import

Each measurement runs in a fresh worker process, started by a fresh measuring process that
reads ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` once the worker has exited: the peak
resident memory of that worker alone. Wall and CPU times are taken inside the worker, around
the work only (interpreter start and imports excluded; "idle RSS" is the worker's peak before
the work). Measured:

* ``validate_junit``: the check every file gets before anything is read or sent;
* ``read_junit``: validation plus the streaming read into CaseResults (what the command does);
* ``junitparser``: ``JUnitXml.fromfile`` and a walk over every case reading its name and
  result -- the tree only, no CaseResults, so less work than ``read_junit`` does;
* ``junitparser+cases``: the same tree turned into CaseResults (outcome, message, text,
  output; none of the dialect rules) -- what reading with junitparser would cost.

The whole import (read -> outbox -> payload -> upload to each target's emulator) is measured by
``bench_import_upload.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "junit"))  # the test suite's file generator

METHODS = ("validate_junit", "read_junit", "junitparser", "junitparser+cases")


def _work(method: str, path: Path) -> int:
    """Do the measured work; return the number of cases seen."""
    if method == "validate_junit":
        from tmupload.junit.read import validate_junit

        validate_junit(path)
        return 0
    if method == "read_junit":
        from tmupload.junit.read import read_junit

        return len(read_junit([path]).run.cases)
    from junitparser import JUnitXml

    if method == "junitparser":
        cases = 0
        for suite in JUnitXml.fromfile(str(path)):
            for case in suite:
                _ = (case.name, case.result)
                cases += 1
        return cases
    return len(_junitparser_cases(JUnitXml.fromfile(str(path))))


def _junitparser_cases(xml: Any) -> list[Any]:
    """CaseResults built from junitparser's tree: the tree and the models live side by side."""
    from junitparser import Error, Failure, Skipped

    from tmupload.models import CaseResult, Outcome

    outcomes = {Failure: Outcome.FAILED, Error: Outcome.ERROR, Skipped: Outcome.SKIPPED}
    cases = []
    for suite in xml:
        for case in suite:
            results = case.result
            outcome = outcomes[type(results[0])] if results else Outcome.PASSED
            name = f"{case.classname}::{case.name}"
            cases.append(
                CaseResult(
                    case_id=f"{suite.name}::{name}",
                    suite=suite.name,
                    name=name,
                    classname=case.classname,
                    outcome=outcome,
                    duration=case.time or 0.0,
                    message=(results[0].message or "") if results else "",
                    details=(results[0].text or "") if results else "",
                    stdout=case.system_out or "",
                    stderr=case.system_err or "",
                )
            )
    return cases


def worker(method: str, path: Path) -> None:
    """The measured process: import first, then time the work alone."""
    import junitparser  # noqa: F401  (imports are not part of the measurement)

    import tmupload.junit.read  # noqa: F401

    idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    wall, cpu = time.perf_counter(), time.process_time()
    cases = _work(method, path)
    result = {
        "cases": cases,
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "idle_kib": idle,
    }
    print(json.dumps(result), flush=True)


def measure(method: str, path: Path) -> None:
    """A fresh process whose only child is the worker: RUSAGE_CHILDREN is the worker's."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", method, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(result), flush=True)


def run_measurement(method: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", method, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _mib(kib: float) -> str:
    return f"{kib / 1024:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--measure", nargs=2, metavar=("METHOD", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    if args.measure:
        measure(args.measure[0], Path(args.measure[1]))
        return

    from importlib.metadata import version

    from bigfile import write_big_junit

    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"junitparser {version('junitparser')}, pydantic {version('pydantic')}, "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    directory = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    directory.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for cases in args.cases:
            path = write_big_junit(directory / f"junit-{cases}.xml", cases)
            size = path.stat().st_size
            for method in METHODS:
                result = run_measurement(method, path)
                rows.append((cases, size, method, result))
                print(
                    f"  {cases:>9,} cases, {method:<14} {result['wall']:7.2f} s wall "
                    f"{_mib(result['maxrss_kib']):>6} MiB peak RSS",
                    flush=True,
                )
            if args.keep is None:
                path.unlink()
    finally:
        if args.keep is None:
            directory.rmdir()
    print()
    print("| testcases | file MB | method | wall s | CPU s | peak RSS MiB | idle RSS MiB |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for cases, size, method, result in rows:
        print(
            f"| {cases:,} | {size / 1e6:,.1f} | {method} | {result['wall']:.2f} | "
            f"{result['cpu']:.2f} | {_mib(result['maxrss_kib'])} | {_mib(result['idle_kib'])} |"
        )


if __name__ == "__main__":
    main()
