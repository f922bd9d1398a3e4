"""Upload scaling, ET and qTest side by side: wall time, peak RSS, bytes and requests per upload.

Run: ``.venv/bin/python benchmarks/bench_upload.py [--quick]`` (``--help`` for the knobs).

Every measurement is a fresh child process (``--child N``) that builds a ``RunReport`` of N
``CaseResult``s directly (100 cases per suite; ~89 % passed, 10 % failed with a traceback of
about 400 characters, 0.5 % skipped, 0.5 % xfailed; no ticket keys, so no linking: see
``bench_linking.py``), then calls ``tmupload.delivery.pipeline.upload(run, settings)`` once,
with settings from ``tmupload.settings.resolve``:

* ``et``: Enterprise Tester, user ``admin`` (``TMUPLOAD_PASSWORD``), project ``Demo``,
  against the ET emulator with its default ``EmulatorConfig`` (no added latency, 50 ms
  import delay: the configuration measured before the reshape);
* ``qtest``: qTest Manager (``target`` ``qtest``, ``TMUPLOAD_TOKEN=demo-token``, project
  ``Demo``), against the qTest emulator with ``EmulatorConfig(job_delay=0.0)``;
* ``et-before`` (with ``--before-src DIR``): ET again, client *and* emulator imported from
  DIR, a source tree of an earlier commit (``git archive COMMIT | tar -x -C /tmp/x``).

Each emulator runs in a process of its own (``_common.py serve TARGET CONFIG``) on loopback
and is reset (``POST /_emulator/reset``) before every child. (Not a thread of the driver:
Linux carries the parent's peak RSS into a child's ``ru_maxrss`` through ``vfork``/``exec``.)
The emulators are dependency-free wsgiref servers, one thread and one connection per request,
state in memory: their figures include the emulator's own work, which a real server does
differently (see BENCHMARKS.md).

The child reports: the upload's wall time and its own CPU time (user + sys of the client
process: the rest of the wall time is waiting on the emulator); the time of each progress
message; ``Delivery.requests`` and ``Delivery.bytes_sent`` (request bodies given as
``content=``); ET's JUnit payload size; the cases mapped to a server record
(``Delivery.results``, ``node_ids`` before the reshape: 0 when ET skips reading the result
nodes back); its RSS after building the report and its peak RSS
(``ru_maxrss``, cross-checked with ``VmHWM``). The driver adds the number of requests the
emulator logged (``GET /_emulator/requests``). Every (target, size) pair runs once per round,
in an order that rotates each round, for ``--rounds`` rounds; medians with min-max, the
ratios to the first target measured in the same rounds, and the growth exponent between
consecutive sizes (``log(t2/t1) / log(n2/n1)``: 1.0 is linear, 0 is constant) are printed.
Results also go to ``benchmarks/out/upload.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PASSWORD,
    PROJECT,
    USER,
    EmulatorProcess,
    current_rss_mib,
    fmt_table,
    machine,
    median,
    peak_hwm_mib,
    peak_rss_mib,
    print_machine,
    source_env,
)

CASES_PER_SUITE = 100
QTEST_TOKEN = "demo-token"

TRACEBACK = """\
    def test_{n}(client):
        response = client.get("/orders/{n}")
>       assert response.status_code == 200, response.text
E       AssertionError: {{"error": "order {n} not found"}}
E       assert 404 == 200
E        +  where 404 = <Response [404]>.status_code

tests/api/test_orders_{suite}.py:{line}: AssertionError
----------------------------- Captured log call ------------------------------
WARNING  orders:views.py:88 order {n} missing from the cache"""


def build_run(cases: int) -> Any:
    from datetime import datetime, timedelta, timezone

    from tmupload.models import CaseResult, Outcome, RunReport

    results = []
    for n in range(cases):
        suite_no = n // CASES_PER_SUITE
        suite = f"tests/api/test_orders_{suite_no:04d}.py"
        name = f"TestOrders::test_order_{n:06d}[case-{n % 7}]"
        kind = n % 200
        fields: dict[str, Any] = {}
        if kind < 20:  # 10 % failed
            fields = {
                "outcome": Outcome.FAILED,
                "failed_phase": "call",
                "message": f'AssertionError: {{"error": "order {n} not found"}}',
                "details": TRACEBACK.format(n=n, suite=suite_no, line=40 + n % 50),
            }
        elif kind == 20:
            fields = {"outcome": Outcome.SKIPPED, "message": "needs the payments sandbox"}
        elif kind == 21:
            fields = {"outcome": Outcome.XFAILED, "message": "known bug"}
        else:
            fields = {"outcome": Outcome.PASSED}
        results.append(
            CaseResult(
                case_id=f"{suite}::{name}",
                suite=suite,
                name=name,
                classname=f"tests.api.test_orders_{suite_no:04d}.TestOrders",
                duration=0.001 * (n % 13),
                **fields,
            )
        )
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    return RunReport(
        name=f"bench {cases}",
        started_at=start,
        finished_at=start + timedelta(seconds=cases * 0.01),
        environment={"python": "3.11"},
        cases=results,
    )


def _settings(target: str, url: str, outbox: str, manifest: bool) -> Any:
    from tmupload.settings import resolve

    flags: dict[str, Any] = {"url": url, "project": PROJECT, "outbox": outbox}
    if manifest:
        flags["manifest"] = str(Path(outbox) / "manifest.json")
    if target == "qtest":
        return resolve({"target": "qtest", **flags}, {}, {"TMUPLOAD_TOKEN": QTEST_TOKEN})
    return resolve({**flags, "user": USER}, {}, {"TMUPLOAD_PASSWORD": PASSWORD})


def _payload_bytes(target: str, run: Any) -> int | None:
    """The size of ET's JUnit document (None for qTest: its batches are JSON, not kept)."""
    if target != "et":
        return None
    try:
        from tmupload.targets.et.payload import build_payload
    except ModuleNotFoundError:  # a source tree from before the reshape (--before-src)
        from tmupload.payload import build_payload  # type: ignore[import-not-found,no-redef]
    return len(build_payload(run).xml)


def child(target: str, cases: int, url: str, outbox: str, manifest: bool = False) -> int:
    """Build a run of ``cases`` cases, upload it once to ``target``, print one JSON line."""
    rss_start = current_rss_mib()
    started = time.perf_counter()
    run = build_run(cases)
    build_time = time.perf_counter() - started
    try:
        from tmupload.delivery.pipeline import upload
    except ModuleNotFoundError:  # a source tree from before the reshape (--before-src)
        from tmupload.pipeline import upload  # type: ignore[import-not-found,no-redef]

    settings = _settings(target, url, outbox, manifest)
    rss_built = current_rss_mib()
    phases: list[tuple[float, str]] = []
    started = time.perf_counter()
    cpu_started = time.process_time()

    def progress(message: str) -> None:
        phases.append((time.perf_counter() - started, message))

    outcome = upload(run, settings, progress=progress)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak = peak_rss_mib()
    hwm = peak_hwm_mib()
    delivery = outcome.delivery
    if not outcome.ok or delivery is None:
        print(json.dumps({"error": str(outcome.error)}))
        return 1
    counts = run.counts()
    mapped: Any = getattr(delivery, "results", None)
    if mapped is None:  # before the reshape: Delivery.node_ids
        mapped = getattr(delivery, "node_ids", {})
    print(
        json.dumps(
            {
                "target": target,
                "cases": cases,
                "failed": counts["failed"],
                "build_s": build_time,
                "wall": wall,
                "cpu": cpu,
                "phases": phases,
                "requests": delivery.requests,
                "bytes_sent": delivery.bytes_sent,
                "payload_bytes": _payload_bytes(target, run),
                "mapped": len(mapped),
                "rss_start_mib": rss_start,
                "rss_built_mib": rss_built,
                "peak_rss_mib": peak,
                "hwm_mib": hwm,
            }
        )
    )
    return 0


def growth(small: float, large: float, n_small: int, n_large: int) -> str:
    if small <= 0 or large <= 0:
        return "-"
    return f"{math.log(large / small) / math.log(n_large / n_small):.2f}"


#: Emulator configuration per variant: ET's default (50 ms import delay, as measured before
#: the reshape); qTest's queue jobs end at once.
EMULATOR_CONFIG: dict[str, dict[str, Any]] = {"et": {}, "qtest": {"job_delay": 0.0}}
BEFORE = "et-before"


def _target(variant: str) -> str:
    return "et" if variant == BEFORE else variant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets", default="et,qtest", help="targets measured side by side (et, qtest)"
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="sizes for every target")
    parser.add_argument(
        "--et-sizes", default="100000", help="further sizes for ET only ('' for none)"
    )
    parser.add_argument(
        "--before-src",
        help="also measure ET with tmupload imported from this src/ directory (e.g. a "
        "`git archive` of the commit before the reshape), interleaved as 'et-before'",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 rounds, no 100,000-case ET upload")
    parser.add_argument(
        "--manifest",
        action="store_true",
        help="every upload also writes a manifest (--tm-manifest): since 7bd9cc6 ET reads the "
        "result nodes back only for links or a manifest, so this measures that read as well",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-manifest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-target", default="et", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--outbox", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "upload.json"))
    args = parser.parse_args()
    if args.child is not None:
        return child(args.child_target, args.child, args.url, args.outbox, args.child_manifest)
    if args.quick:
        args.rounds = 3
        args.et_sizes = ""

    targets = [t for t in args.targets.split(",") if t]
    for target in targets:
        if target not in EMULATOR_CONFIG:
            parser.error(f"unknown target {target!r}; choose from et, qtest")
    variants = [*targets, *([BEFORE] if args.before_src else [])]
    common = [int(size) for size in args.sizes.split(",") if size]
    extra = [int(size) for size in args.et_sizes.split(",") if size]
    plan = [(v, n) for n in common for v in variants]
    plan += [(v, n) for n in extra for v in variants if _target(v) == "et"]
    print_machine()
    results: dict[tuple[str, int], list[dict[str, Any]]] = {key: [] for key in plan}
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-upload-"))
    started = time.perf_counter()
    emulators: dict[str, EmulatorProcess] = {}
    try:
        for variant in variants:
            src = args.before_src if variant == BEFORE else None
            emulators[variant] = EmulatorProcess(
                _target(variant), EMULATOR_CONFIG[_target(variant)], src=src
            )
            print(f"emulator [{variant}]: {emulators[variant].command}", flush=True)
        me = [sys.executable, str(Path(__file__).resolve())]
        print(
            f"command per measurement: {' '.join(me)} --child-target T --url URL "
            "--outbox DIR --child N"
            + (" --child-manifest" if args.manifest else "")
            + (f"  (et-before: PYTHONPATH={args.before_src})" if args.before_src else ""),
            flush=True,
        )
        for round_no in range(args.rounds):
            shift = round_no % len(plan)
            for variant, size in plan[shift:] + plan[:shift]:
                emulator = emulators[variant]
                emulator.reset()
                outbox = scratch / f"outbox-{variant}-{size}-{round_no}"
                proc = subprocess.run(
                    [
                        *me,
                        "--child-target",
                        _target(variant),
                        "--url",
                        emulator.url,
                        "--outbox",
                        str(outbox),
                        "--child",
                        str(size),
                        *(["--child-manifest"] if args.manifest else []),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    env=source_env(args.before_src if variant == BEFORE else None),
                )
                if proc.returncode != 0:
                    raise SystemExit(
                        f"child {variant} {size} failed:\n{proc.stdout}\n{proc.stderr}"
                    )
                result = json.loads(proc.stdout.strip().splitlines()[-1])
                result["server_requests"] = len(emulator.requests())
                result["round"] = round_no
                result["variant"] = variant
                results[(variant, size)].append(result)
                print(
                    f"round {round_no + 1}/{args.rounds} {variant:9} {size:>7} cases: "
                    f"{result['wall']:.2f}s, {result['requests']} requests "
                    f"({result['server_requests']} seen by the server), "
                    f"{result['bytes_sent']:,} bytes, peak RSS {result['peak_rss_mib']:.0f} MiB "
                    f"(VmHWM {result['hwm_mib']:.0f}; after building the report "
                    f"{result['rss_built_mib']:.0f} MiB)",
                    flush=True,
                )
    finally:
        for emulator in emulators.values():
            emulator.stop()
    elapsed = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)

    def med(key: tuple[str, int], field: str) -> float:
        return median(r[field] for r in results[key])

    rows = []
    for variant in variants:
        for variant_, size in plan:
            if variant_ != variant:
                continue
            key = (variant, size)
            walls = [r["wall"] for r in results[key]]
            rows.append(
                [
                    variant,
                    f"{size:,}",
                    f"{med(key, 'wall'):.2f}",
                    f"{min(walls):.2f}-{max(walls):.2f}",
                    f"{1e3 * med(key, 'wall') / size:.3f}",
                    f"{med(key, 'cpu'):.2f}",
                    f"{med(key, 'peak_rss_mib'):.0f}",
                    f"{med(key, 'rss_built_mib'):.0f}",
                    f"{med(key, 'peak_rss_mib') - med(key, 'rss_built_mib'):.0f}",
                    f"{int(med(key, 'bytes_sent')):,}",
                    f"{med(key, 'bytes_sent') / size:.0f}",
                    f"{int(med(key, 'requests'))}",
                    f"{int(med(key, 'server_requests'))}",
                    f"{int(med(key, 'mapped')):,}",
                ]
            )
    print()
    print(f"{args.rounds} rounds, {elapsed:.0f}s in all; medians per target and size:")
    print(
        fmt_table(
            [
                "target",
                "cases",
                "wall s",
                "min-max s",
                "ms/case",
                "client CPU s",
                "peak RSS MiB",
                "RSS after build MiB",
                "upload adds MiB",
                "bytes sent",
                "bytes/case",
                "requests (client)",
                "requests (server)",
                "mapped",
            ],
            rows,
        )
    )
    ratio_rows = []
    for variant in variants[1:]:
        for size in common + extra:
            if (variant, size) not in results or (variants[0], size) not in results:
                continue
            per_round = [
                r["wall"] / b["wall"]
                for r, b in zip(results[(variant, size)], results[(variants[0], size)], strict=True)
            ]
            ratio_rows.append(
                [
                    f"{variant} / {variants[0]}",
                    f"{size:,}",
                    f"{med((variant, size), 'wall') / med((variants[0], size), 'wall'):.2f}",
                    f"{median(per_round):.2f}",
                    f"{min(per_round):.2f}-{max(per_round):.2f}",
                ]
            )
    if ratio_rows:
        print()
        print("wall-time ratios measured in this run:")
        print(
            fmt_table(
                ["ratio", "cases", "of medians", "median per round", "per-round min-max"],
                ratio_rows,
            )
        )
    growth_rows = []
    for variant in variants:
        sizes = [n for v, n in plan if v == variant]
        for small, large in itertools.pairwise(sizes):
            a, b = (variant, small), (variant, large)
            growth_rows.append(
                [
                    variant,
                    f"{small:,} -> {large:,}",
                    growth(med(a, "wall"), med(b, "wall"), small, large),
                    growth(
                        med(a, "peak_rss_mib") - med(a, "rss_built_mib"),
                        med(b, "peak_rss_mib") - med(b, "rss_built_mib"),
                        small,
                        large,
                    ),
                    growth(med(a, "bytes_sent"), med(b, "bytes_sent"), small, large),
                    f"{int(med(b, 'requests') - med(a, 'requests')):+d}",
                ]
            )
    print()
    print("growth exponents (1.00 = linear in the number of cases, 0 = constant):")
    print(
        fmt_table(
            ["target", "sizes", "wall", "RSS added by upload", "bytes sent", "requests (diff)"],
            growth_rows,
        )
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "rounds": args.rounds,
                "elapsed": elapsed,
                "before_src": args.before_src,
                "manifest": args.manifest,
                "emulator_config": EMULATOR_CONFIG,
                "results": {f"{v} {n}": runs for (v, n), runs in results.items()},
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
