"""Upload scaling, ET, qTest and Zephyr side by side: wall time, CPU, RSS, bytes and requests.

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
* ``zephyr``: Zephyr Enterprise (``target`` ``zephyr``, ``TMUPLOAD_TOKEN=demo-token``, project
  ``Demo``, release ``2026.4``), against the Zephyr emulator with its default
  ``EmulatorConfig`` (no latency; 500 items per bulk call, 100 executions per page);
* ``et-before`` (with ``--before-src DIR``): ET again, client *and* emulator imported from
  DIR, a source tree of an earlier commit (``git archive COMMIT | tar -x -C /tmp/x``).

Every target is measured with each ``--attach`` mode (the ``attach`` setting, ``--tm-attach``):
``none`` (no attachment) and ``output`` (the default: an ``output.txt`` with the traceback on
every failing case, copied into the outbox at spool time and sent; 10 % of the cases here).
A variant is named ``TARGET/MODE``; ``et-before`` has no attachments (its tree predates them).

Each emulator runs in a process of its own (``_common.py serve TARGET CONFIG``) on loopback
and is reset (``POST /_emulator/reset``) before every child. (Not a thread of the driver:
Linux carries the parent's peak RSS into a child's ``ru_maxrss`` through ``vfork``/``exec``.)
The emulators are dependency-free wsgiref servers, one thread and one connection per request,
state in memory: their figures include the emulator's own work, which a real server does
differently (see BENCHMARKS.md).

The child reports: the upload's wall time and its own CPU time (user + sys of the client
process: the rest of the wall time is waiting on the emulator); the time of each progress
message; ``Delivery.requests`` and ``Delivery.bytes_sent`` (request bodies given as
``content=``: ET's and qTest's JSON calls are not in it, Zephyr's are); every request the
process's ``httpx`` transports sent and the bytes of their bodies, whatever built them
(``_common.WireCounter``: the figure to compare between targets); the attachments sent;
ET's JUnit payload size; the cases mapped to a server record
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
    EmulatorProcess,
    WireCounter,
    current_rss_mib,
    fmt_table,
    machine,
    median,
    peak_hwm_mib,
    peak_rss_mib,
    print_machine,
    source_env,
    target_settings,
)

CASES_PER_SUITE = 100
ATTACH_MODES = ("none", "output")

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


def _settings(target: str, url: str, outbox: str, manifest: bool, attach: str | None) -> Any:
    from tmupload.settings import resolve

    extra: dict[str, Any] = {}
    if manifest:
        extra["manifest"] = str(Path(outbox) / "manifest.json")
    if attach is not None:  # None: a tree from before attachments (et-before)
        extra["attach"] = attach
    flags, env = target_settings(target, url, outbox, **extra)
    return resolve(flags, {}, env)


def _payload_bytes(target: str, run: Any) -> int | None:
    """The size of ET's JUnit document (None for the others: their bodies are JSON)."""
    if target != "et":
        return None
    try:
        from tmupload.targets.et.payload import build_payload
    except ModuleNotFoundError:  # a source tree from before the reshape (--before-src)
        from tmupload.payload import build_payload  # type: ignore[import-not-found,no-redef]
    return len(build_payload(run).xml)


def child(
    target: str,
    cases: int,
    url: str,
    outbox: str,
    manifest: bool = False,
    attach: str | None = None,
) -> int:
    """Build a run of ``cases`` cases, upload it once to ``target``, print one JSON line."""
    wire = WireCounter().install()
    rss_start = current_rss_mib()
    started = time.perf_counter()
    run = build_run(cases)
    build_time = time.perf_counter() - started
    try:
        from tmupload.delivery.pipeline import upload
    except ModuleNotFoundError:  # a source tree from before the reshape (--before-src)
        from tmupload.pipeline import upload  # type: ignore[import-not-found,no-redef]

    settings = _settings(target, url, outbox, manifest, attach)
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
                "attach": attach,
                "requests": delivery.requests,
                "bytes_sent": delivery.bytes_sent,
                "wire_requests": wire.requests,
                "wire_body_bytes": wire.body_bytes,
                "attachments_sent": sum(
                    1 for a in getattr(delivery, "attachments", []) if a.status == "sent"
                ),
                "attachment_bytes": sum(
                    a.size for a in getattr(delivery, "attachments", []) if a.status == "sent"
                ),
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


#: Emulator configuration per target: ET's default (50 ms import delay, as measured before
#: the reshape); qTest's queue jobs end at once; Zephyr's default (no latency).
EMULATOR_CONFIG: dict[str, dict[str, Any]] = {"et": {}, "qtest": {"job_delay": 0.0}, "zephyr": {}}
BEFORE = "et-before"


def _target(variant: str) -> str:
    return "et" if variant == BEFORE else variant.split("/")[0]


def _mode(variant: str) -> str | None:
    return variant.split("/")[1] if "/" in variant else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets", default="et,qtest,zephyr", help="targets measured side by side"
    )
    parser.add_argument(
        "--attach",
        default=",".join(ATTACH_MODES),
        help="attach modes measured for every target (none, output, all; default none,output)",
    )
    parser.add_argument("--sizes", default="100,1000,10000", help="sizes for every target")
    parser.add_argument(
        "--large-sizes",
        "--et-sizes",
        dest="large_sizes",
        default="100000",
        help="further sizes for --large-targets only ('' for none)",
    )
    parser.add_argument(
        "--large-targets", default="et", help="targets measured at --large-sizes (default et)"
    )
    parser.add_argument(
        "--large-attach",
        help="attach modes at --large-sizes (default: those of --attach)",
    )
    parser.add_argument(
        "--before-src",
        help="also measure ET with tmupload imported from this src/ directory (e.g. a "
        "`git archive` of the commit before the reshape), interleaved as 'et-before'",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 rounds, no large sizes")
    parser.add_argument(
        "--manifest",
        action="store_true",
        help="every upload also writes a manifest (--tm-manifest): since 7bd9cc6 ET reads the "
        "result nodes back only for links or a manifest, so this measures that read as well",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-manifest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-target", default="et", help=argparse.SUPPRESS)
    parser.add_argument("--child-attach", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--outbox", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "upload.json"))
    args = parser.parse_args()
    if args.child is not None:
        return child(
            args.child_target,
            args.child,
            args.url,
            args.outbox,
            args.child_manifest,
            args.child_attach,
        )
    if args.quick:
        args.rounds = 3
        args.large_sizes = ""

    targets = [t for t in args.targets.split(",") if t]
    large_targets = [t for t in args.large_targets.split(",") if t]
    modes = [m for m in args.attach.split(",") if m]
    large_modes = (
        modes if args.large_attach is None else [m for m in args.large_attach.split(",") if m]
    )
    for target in [*targets, *large_targets]:
        if target not in EMULATOR_CONFIG:
            parser.error(f"unknown target {target!r}; choose from {', '.join(EMULATOR_CONFIG)}")
    for mode in [*modes, *large_modes]:
        if mode not in ("none", "output", "all"):
            parser.error(f"unknown attach mode {mode!r}; choose from none, output, all")
    variants = [f"{t}/{m}" for t in targets for m in modes]
    large_variants = [f"{t}/{m}" for t in large_targets for m in large_modes]
    if args.before_src:
        variants.append(BEFORE)
    common = [int(size) for size in args.sizes.split(",") if size]
    extra = [int(size) for size in args.large_sizes.split(",") if size]
    plan = [(v, n) for n in common for v in variants]
    plan += [(v, n) for n in extra for v in large_variants]
    plan += [(BEFORE, n) for n in extra if args.before_src and "et" in large_targets]
    all_variants = list(dict.fromkeys(v for v, _ in plan))
    print_machine()
    results: dict[tuple[str, int], list[dict[str, Any]]] = {key: [] for key in plan}
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-upload-"))
    started = time.perf_counter()
    emulators: dict[str, EmulatorProcess] = {}
    try:
        for server in dict.fromkeys(BEFORE if v == BEFORE else _target(v) for v in all_variants):
            src = args.before_src if server == BEFORE else None
            emulators[server] = EmulatorProcess(
                _target(server), EMULATOR_CONFIG[_target(server)], src=src
            )
            print(f"emulator [{server}]: {emulators[server].command}", flush=True)
        me = [sys.executable, str(Path(__file__).resolve())]
        print(
            f"command per measurement: {' '.join(me)} --child-target T --child-attach MODE "
            "--url URL --outbox DIR --child N"
            + (" --child-manifest" if args.manifest else "")
            + (f"  (et-before: PYTHONPATH={args.before_src})" if args.before_src else ""),
            flush=True,
        )
        for round_no in range(args.rounds):
            shift = round_no % len(plan)
            for variant, size in plan[shift:] + plan[:shift]:
                emulator = emulators[BEFORE if variant == BEFORE else _target(variant)]
                emulator.reset()
                outbox = scratch / f"outbox-{variant.replace('/', '-')}-{size}-{round_no}"
                mode = _mode(variant)
                proc = subprocess.run(
                    [
                        *me,
                        "--child-target",
                        _target(variant),
                        *(["--child-attach", mode] if mode else []),
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
                shutil.rmtree(outbox, ignore_errors=True)
                print(
                    f"round {round_no + 1}/{args.rounds} {variant:14} {size:>7} cases: "
                    f"{result['wall']:.2f}s, CPU {result['cpu']:.2f}s, "
                    f"{result['requests']} requests "
                    f"({result['server_requests']} seen by the server, "
                    f"{result['wire_requests']} on the wire), "
                    f"{result['wire_body_bytes']:,} body bytes "
                    f"({result['bytes_sent']:,} in bytes_sent), "
                    f"{result['attachments_sent']} attachments, "
                    f"peak RSS {result['peak_rss_mib']:.0f} MiB "
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
    for variant in all_variants:
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
                    f"{med(key, 'peak_rss_mib') - med(key, 'rss_built_mib'):.0f}",
                    f"{int(med(key, 'wire_requests'))}",
                    f"{int(med(key, 'server_requests'))}",
                    f"{int(med(key, 'wire_body_bytes')):,}",
                    f"{med(key, 'wire_body_bytes') / size:.0f}",
                    f"{int(med(key, 'bytes_sent')):,}",
                    f"{int(med(key, 'attachments_sent')):,}",
                    f"{int(med(key, 'mapped')):,}",
                ]
            )
    print()
    print(f"{args.rounds} rounds, {elapsed:.0f}s in all; medians per variant and size:")
    print(
        fmt_table(
            [
                "variant",
                "cases",
                "wall s",
                "min-max s",
                "ms/case",
                "client CPU s",
                "peak RSS MiB",
                "upload adds MiB",
                "requests (wire)",
                "requests (server)",
                "body bytes (wire)",
                "body bytes/case",
                "bytes_sent",
                "attachments",
                "mapped",
            ],
            rows,
        )
    )

    def ratio_row(label: str, num: str, den: str, size: int) -> list[str] | None:
        if (num, size) not in results or (den, size) not in results:
            return None
        per_round = [
            r["wall"] / b["wall"]
            for r, b in zip(results[(num, size)], results[(den, size)], strict=True)
        ]
        cpu = med((num, size), "cpu") / med((den, size), "cpu")
        return [
            label,
            f"{size:,}",
            f"{med((num, size), 'wall') / med((den, size), 'wall'):.2f}",
            f"{median(per_round):.2f}",
            f"{min(per_round):.2f}-{max(per_round):.2f}",
            f"{cpu:.2f}",
            f"{int(med((num, size), 'wire_requests') - med((den, size), 'wire_requests')):+d}",
            f"{int(med((num, size), 'wire_body_bytes') - med((den, size), 'wire_body_bytes')):+,}",
        ]

    ratio_rows = []
    sizes_all = list(dict.fromkeys(n for _, n in plan))
    # The cost of the default output attachments, per target.
    for target in dict.fromkeys(_target(v) for v in all_variants if v != BEFORE):
        for size in sizes_all:
            row = ratio_row(f"{target}: output / none", f"{target}/output", f"{target}/none", size)
            if row:
                ratio_rows.append(row)
    # Each target against ET, mode by mode.
    for mode in dict.fromkeys(m for v in all_variants if (m := _mode(v))):
        for target in dict.fromkeys(_target(v) for v in all_variants if v != BEFORE):
            if target == "et":
                continue
            for size in sizes_all:
                row = ratio_row(f"{target} / et ({mode})", f"{target}/{mode}", f"et/{mode}", size)
                if row:
                    ratio_rows.append(row)
    for size in sizes_all:
        row = ratio_row("et-before / et/none", BEFORE, "et/none", size)
        if row:
            ratio_rows.append(row)
    if ratio_rows:
        print()
        print("ratios measured in this run (wall and CPU: medians; requests, bytes: difference):")
        print(
            fmt_table(
                [
                    "ratio",
                    "cases",
                    "wall, of medians",
                    "wall, median per round",
                    "per-round min-max",
                    "client CPU",
                    "requests",
                    "body bytes",
                ],
                ratio_rows,
            )
        )
    growth_rows = []
    for variant in all_variants:
        sizes = [n for v, n in plan if v == variant]
        for small, large in itertools.pairwise(sizes):
            a, b = (variant, small), (variant, large)
            growth_rows.append(
                [
                    variant,
                    f"{small:,} -> {large:,}",
                    growth(med(a, "wall"), med(b, "wall"), small, large),
                    growth(med(a, "cpu"), med(b, "cpu"), small, large),
                    growth(
                        med(a, "peak_rss_mib") - med(a, "rss_built_mib"),
                        med(b, "peak_rss_mib") - med(b, "rss_built_mib"),
                        small,
                        large,
                    ),
                    growth(med(a, "wire_body_bytes"), med(b, "wire_body_bytes"), small, large),
                    f"{int(med(b, 'wire_requests') - med(a, 'wire_requests')):+d}",
                ]
            )
    print()
    print("growth exponents (1.00 = linear in the number of cases, 0 = constant):")
    print(
        fmt_table(
            [
                "variant",
                "sizes",
                "wall",
                "client CPU",
                "RSS added by upload",
                "body bytes",
                "requests (diff)",
            ],
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
