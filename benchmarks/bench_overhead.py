"""Plugin overhead: the wall time of one 10,000-test pytest session with each kind of reporting.

Run: ``.venv/bin/python benchmarks/bench_overhead.py`` (``--help`` for the knobs).

A suite of ``--tests`` fast tests (mostly passes; 2 % failures, 2 % skips, 1 % xfails; a few
failing tests carry ``@pytest.mark.ticket``) is generated in a temporary directory with its
own ``pytest.ini``, then pytest runs it in a fresh process per measurement as:

* ``bare``      -- ``-p no:tmupload -p no:allure_pytest`` (the plugin as if not installed);
* ``off``       -- ``-p no:allure_pytest``: tmupload installed and loaded, upload not enabled;
* ``junitxml``  -- bare + ``--junitxml``;
* ``tm-upload`` -- ``-p no:allure_pytest --tm-upload`` to the ET emulator on loopback; the
  upload (and the ticket links) happen inside the measured session;
* ``allure``    -- ``-p no:tmupload --alluredir`` (allure-pytest writing its result files);

and the same with ``-n 2`` (pytest-xdist). Every command also has ``-p no:cacheprovider -q``.
pytest-xdist, pytest-rerunfailures, pytest-httpx and anyio stay loaded in every variant (they
are installed in the same environment), so the only difference between two variants is the
reporting being measured.

The emulator runs in a thread of this driver process, never inside the measured process; it
is reset before every ``tm-upload`` run. The variants are interleaved round-robin (the
starting variant rotates each round) for ``--rounds`` rounds, after an unmeasured warm-up
(one session with every reporter on, one ``-n 2`` collection). Bytecode caching is switched
on for the measured processes (the driver's environment may set ``PYTHONDONTWRITEBYTECODE``)
with ``PYTHONPYCACHEPREFIX`` pointing into the scratch directory, so no ``__pycache__``
appears in the source tree and assertion rewriting is cached as in a normal checkout.

Figures printed: per variant the median wall time, min-max, the ratio of medians to ``bare``
(of the same ``-n``) and the median of the per-round ratios; the median CPU time (user + sys
of pytest and its xdist workers, from ``RUSAGE_CHILDREN``) and its ratio to ``bare``; for
``tm-upload`` also the upload window as the server saw it (first ``/api`` request to the last
answer) and the number of requests. Results also go to ``benchmarks/out/overhead.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PASSWORD,
    PROJECT,
    USER,
    emulator_in_thread,
    fmt_table,
    importable,
    machine,
    median,
    print_machine,
)

SERIAL = ("bare", "off", "junitxml", "tm-upload", "allure")
#: Variants run with tmupload imported from ``--before-src`` (same options as without the suffix).
BEFORE_SUFFIX = "-before"
TESTS_PER_FILE = 100
TICKETED_FAILURES = 20  # failing tests that carry @pytest.mark.ticket -> this many links


def generate_suite(root: Path, tests: int) -> dict[str, int]:
    """Write the suite; return how many tests of each kind it has."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pytest.ini").write_text(
        "[pytest]\n"
        "markers =\n"
        "    ticket(*keys): defect tickets (registered here so every variant is equal)\n",
        encoding="utf-8",
    )
    counts = {"passed": 0, "failed": 0, "skipped": 0, "xfailed": 0, "ticketed": 0}
    files = (tests + TESTS_PER_FILE - 1) // TESTS_PER_FILE
    number = 0
    for index in range(files):
        parts = ["import pytest\n"]
        for _ in range(min(TESTS_PER_FILE, tests - number)):
            kind = number % 100
            name = f"test_{number:05d}"
            if kind in (10, 60):  # 2 % failures, a short assertion traceback each
                ticket = ""
                if counts["ticketed"] < TICKETED_FAILURES and number % 1000 in (10, 60):
                    ticket = '@pytest.mark.ticket("PAY-17")\n'
                    counts["ticketed"] += 1
                parts.append(
                    f"{ticket}def {name}():\n"
                    f"    expected = {number}\n"
                    f"    assert expected + 1 == expected, 'off by one'\n"
                )
                counts["failed"] += 1
            elif kind in (20, 70):  # 2 % skips
                parts.append(
                    f"@pytest.mark.skip(reason='not on this platform')\ndef {name}():\n    pass\n"
                )
                counts["skipped"] += 1
            elif kind == 30:  # 1 % expected failures
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


def variant_args(name: str, scratch: Path, url: str) -> list[str]:
    name = name.removesuffix(BEFORE_SUFFIX)
    if name == "bare":
        return ["-p", "no:tmupload", "-p", "no:allure_pytest"]
    if name == "off":
        return ["-p", "no:allure_pytest"]
    if name == "junitxml":
        return [
            "-p",
            "no:tmupload",
            "-p",
            "no:allure_pytest",
            f"--junitxml={scratch / 'junit.xml'}",
        ]
    if name == "tm-upload":
        return [
            "-p",
            "no:allure_pytest",
            "--tm-upload",
            "--tm-url",
            url,
            "--tm-project",
            PROJECT,
            "--tm-outbox",
            str(scratch / "outbox"),
        ]
    if name == "allure":
        return ["-p", "no:tmupload", f"--alluredir={scratch / 'allure'}", "--clean-alluredir"]
    raise ValueError(name)


def child_env(scratch: Path, path: Sequence[str] = ()) -> dict[str, str]:
    """The measured processes' environment; ``path`` goes first on ``PYTHONPATH``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TMUPLOAD_", "PYTEST_", "COV_"))
        and key not in ("PYTHONDONTWRITEBYTECODE",)
    }
    env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    env["TMUPLOAD_USER"] = USER
    env["TMUPLOAD_PASSWORD"] = PASSWORD
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*path, *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


class Runner:
    def __init__(
        self,
        suite: Path,
        scratch: Path,
        emulator: Any,
        timed: Any,
        url: str,
        extra_path: Sequence[str] = (),
        before_src: str | None = None,
    ) -> None:
        self.suite = suite
        self.scratch = scratch
        self.emulator = emulator
        self.timed = timed
        self.url = url
        self.env = child_env(scratch, extra_path)
        self.before_env = (
            child_env(scratch, [str(Path(before_src).resolve()), *extra_path])
            if before_src
            else None
        )

    def env_for(self, variant: str) -> dict[str, str]:
        if variant.endswith(BEFORE_SUFFIX):
            if self.before_env is None:
                raise ValueError(f"{variant} needs --before-src")
            return self.before_env
        return self.env

    def command(self, variant: str, workers: int) -> list[str]:
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        if workers:
            cmd += ["-n", str(workers)]
        return cmd + variant_args(variant, self.scratch, self.url)

    def warm_up(self, workers: int) -> float:
        start = time.perf_counter()
        every = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={self.scratch / 'junit.xml'}",
            f"--alluredir={self.scratch / 'allure'}",
            *variant_args("tm-upload", self.scratch, self.url)[2:],
        ]
        if not importable("allure_pytest", self.env):
            every = [arg for arg in every if not arg.startswith("--alluredir")]
        runs = [every]
        if workers:
            runs.append([*every[:6], "-n", str(workers), "--collect-only"])
        envs = [self.env] + ([self.before_env] if self.before_env else [])
        for cmd, env in [(cmd, env) for env in envs for cmd in runs]:
            subprocess.run(
                cmd,
                cwd=self.suite,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        self.emulator.reset()
        return time.perf_counter() - start

    def run(self, variant: str, workers: int) -> dict[str, Any]:
        for leftover in ("junit.xml", "outbox", "allure"):
            path = self.scratch / leftover
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        uploads = variant.removesuffix(BEFORE_SUFFIX) == "tm-upload"
        if uploads:
            self.emulator.reset()
            self.timed.clear()
        log = self.scratch / "last-output.txt"
        cmd = self.command(variant, workers)
        with log.open("wb") as out:
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            proc = subprocess.run(
                cmd, cwd=self.suite, env=self.env_for(variant), stdout=out, stderr=subprocess.STDOUT
            )
            wall = time.perf_counter() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of pytest and of its xdist workers (not of the emulator: it is a thread
        # of this process), less sensitive than wall time to other load on the machine.
        cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)
        text = log.read_text(encoding="utf-8", errors="replace")
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{variant} -n {workers}: pytest exited {proc.returncode}\n{text}")
        result: dict[str, Any] = {"wall": wall, "cpu": cpu}
        if uploads:
            if "tmupload: uploaded" not in text:
                raise SystemExit(f"tm-upload run did not upload:\n{text[-3000:]}")
            result["upload_window"] = self.timed.window()
            result["requests"] = len(self.emulator.requests)
        elif variant.startswith("junitxml") and not (self.scratch / "junit.xml").is_file():
            raise SystemExit("junitxml run wrote no file")
        elif variant.startswith("allure") and not any(
            (self.scratch / "allure").glob("*-result.json")
        ):
            raise SystemExit("allure run wrote no results")
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--variants", default=",".join(SERIAL), help="serial variants (comma separated)"
    )
    parser.add_argument(
        "--xdist-variants",
        default="bare,off,tm-upload,allure",
        help="variants also run with -n 2 ('' for none, 'all' for every serial variant)",
    )
    parser.add_argument("--workers", type=int, default=2, help="the -n of the xdist variants")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 5 minutes on 2 cores: --tests 3000 --xdist-variants bare,tm-upload",
    )
    parser.add_argument(
        "--before-src",
        help="a src/ directory to import tmupload from for the variants named NAME-before "
        "(e.g. --variants bare,tm-upload,tm-upload-before); the ET emulator stays the current one",
    )
    parser.add_argument(
        "--allure-site",
        help="a directory holding allure-pytest (e.g. `pip install --target DIR --no-deps "
        "allure-pytest allure-python-commons attrs`), put on PYTHONPATH of every variant; "
        "without it and without allure-pytest installed the allure variants are left out",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "overhead.json"))
    args = parser.parse_args()
    if args.quick:
        args.tests = 3000
        args.xdist_variants = "bare,tm-upload"

    serial = [v for v in args.variants.split(",") if v]
    xdist = (
        serial if args.xdist_variants == "all" else [v for v in args.xdist_variants.split(",") if v]
    )
    for name in [*serial, *xdist]:
        if name.removesuffix(BEFORE_SUFFIX) not in SERIAL:
            parser.error(f"unknown variant {name!r}; choose from {', '.join(SERIAL)}")
        if name.endswith(BEFORE_SUFFIX) and not args.before_src:
            parser.error(f"{name} needs --before-src")
    extra_path = [str(Path(args.allure_site).resolve())] if args.allure_site else []
    if not importable("allure_pytest", child_env(Path(tempfile.gettempdir()), extra_path)):
        left_out = [v for v in [*serial, *xdist] if v.startswith("allure")]
        if left_out:
            print(
                "allure-pytest is not importable (see --allure-site): "
                f"leaving out {', '.join(sorted(set(left_out)))}",
                flush=True,
            )
        serial = [v for v in serial if not v.startswith("allure")]
        xdist = [v for v in xdist if not v.startswith("allure")]
    plan = [(v, 0) for v in serial] + [(v, args.workers) for v in xdist]
    if "bare" not in serial or (xdist and "bare" not in xdist):
        parser.error("'bare' must be among the variants of each -n (it is the baseline)")

    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-overhead-"))
    suite = scratch / "suite"
    counts = generate_suite(suite, args.tests)
    print(f"suite: {args.tests} tests in {suite} ({counts})", flush=True)
    results: dict[tuple[str, int], list[dict[str, Any]]] = {key: [] for key in plan}
    started = time.perf_counter()
    with emulator_in_thread() as (emulator, timed, url):
        runner = Runner(suite, scratch, emulator, timed, url, extra_path, args.before_src)
        for variant, workers in plan:
            prefix = ""
            if variant.endswith(BEFORE_SUFFIX):
                prefix = f"PYTHONPATH={args.before_src} "
            print(
                f"command [{variant} -n {workers}]: "
                f"{prefix}{' '.join(runner.command(variant, workers))}"
            )
        # Warm-up (unmeasured): one session with every reporter on, and one xdist collection,
        # compile and cache every module once (the suite's rewritten asserts, every plugin).
        warm = runner.warm_up(args.workers if xdist else 0)
        print(f"warm-up: {warm:.2f}s", flush=True)
        for round_no in range(args.rounds):
            shift = round_no % len(plan)
            order = plan[shift:] + plan[:shift]
            for variant, workers in order:
                result = runner.run(variant, workers)
                result["round"] = round_no
                results[(variant, workers)].append(result)
                extra = ""
                if "upload_window" in result:
                    extra = (
                        f" (upload window {result['upload_window']:.2f}s,"
                        f" {result['requests']} requests)"
                    )
                print(
                    f"round {round_no + 1}/{args.rounds} {variant:9} -n {workers}: "
                    f"{result['wall']:.2f}s (CPU {result['cpu']:.2f}s){extra}",
                    flush=True,
                )
    elapsed = time.perf_counter() - started

    rows = []
    summary: dict[str, Any] = {}
    for variant, workers in plan:
        walls = [r["wall"] for r in results[(variant, workers)]]
        base = results[("bare", workers)]
        per_round = [
            r["wall"] / b["wall"] for r, b in zip(results[(variant, workers)], base, strict=True)
        ]
        med = median(walls)
        ratio = med / median(r["wall"] for r in base)
        cpus = [r["cpu"] for r in results[(variant, workers)]]
        cpu_ratio = median(cpus) / median(r["cpu"] for r in base)
        upload = ""
        if variant.removesuffix(BEFORE_SUFFIX) == "tm-upload":
            windows = [r["upload_window"] for r in results[(variant, workers)]]
            reqs = [r["requests"] for r in results[(variant, workers)]]
            upload = f"{median(windows):.2f}s / {int(median(reqs))} req"
        rows.append(
            [
                variant,
                workers or "-",
                f"{med:.2f}",
                f"{min(walls):.2f}-{max(walls):.2f}",
                f"{ratio:.3f}",
                f"{median(per_round):.3f}",
                f"{median(cpus):.2f}",
                f"{cpu_ratio:.3f}",
                upload,
            ]
        )
        summary[f"{variant} -n {workers}"] = {
            "walls": walls,
            "median": med,
            "ratio_of_medians": ratio,
            "median_round_ratio": median(per_round),
            "cpu": cpus,
            "cpu_median": median(cpus),
            "cpu_ratio": cpu_ratio,
            "runs": results[(variant, workers)],
        }
    print()
    print(
        f"{args.tests} tests, {args.rounds} rounds, {elapsed:.0f}s in all "
        f"(plus generation); wall time per pytest process:"
    )
    print(
        fmt_table(
            [
                "variant",
                "-n",
                "median s",
                "min-max s",
                "ratio to bare",
                "median per-round ratio",
                "CPU s",
                "CPU ratio",
                "upload window / requests",
            ],
            rows,
        )
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "tests": args.tests,
                "rounds": args.rounds,
                "suite": counts,
                "elapsed": elapsed,
                "results": summary,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    if args.keep:
        print(f"scratch kept: {scratch}")
    else:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
