"""Ticket linking: 1,000 links with 50 ms server latency, default concurrency (8) against 1.

Run: ``.venv/bin/python benchmarks/bench_linking.py`` (``--help`` for the knobs).

Every measurement is a fresh child process that builds a ``RunReport`` of ``--links`` failing
cases (10 suites), each carrying one ticket key taken in turn from the emulator's default
tickets (PAY-17, PAY-18, PAY-19, DEMO-1, DEMO-2, DEMO-3), so there are exactly ``--links``
(node, key) pairs, and uploads it with ``tmupload.pipeline.upload`` and
``link_concurrency`` 8 or 1. The ET emulator is served from a thread of this driver process
with ``EmulatorConfig(latency=0.05)`` (50 ms added to every ``/api`` request; link tasks
complete 20 ms after they start, the default) and is reset before every child.

Figures: the whole upload's wall time, the linking phase's wall time (from the pipeline's
"linking N ticket(s)" progress message to the end of the upload), requests per link (the
``/api`` requests the emulator logged from the first ``POST /api/backgroundtasks`` on,
divided by the number of links), and the link statuses. The two concurrencies alternate for
``--pairs`` pairs (the order flips each pair); medians and the ratio are printed and written
to ``benchmarks/out/linking.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    PASSWORD,
    PROJECT,
    USER,
    emulator_in_thread,
    fmt_table,
    machine,
    median,
    print_machine,
)

KEYS = ("PAY-17", "PAY-18", "PAY-19", "DEMO-1", "DEMO-2", "DEMO-3")
SUITES = 10


def build_run(links: int) -> Any:
    from tmupload.models import CaseResult, Outcome, RunReport, TicketRef

    per_suite = (links + SUITES - 1) // SUITES
    cases = []
    for n in range(links):
        suite = f"tests/test_checkout_{n // per_suite:02d}.py"
        name = f"test_payment_{n:05d}"
        cases.append(
            CaseResult(
                case_id=f"{suite}::{name}",
                suite=suite,
                name=name,
                outcome=Outcome.FAILED,
                failed_phase="call",
                message="AssertionError: payment declined",
                details=f"    def {name}():\n>       assert pay() == 'ok'\nE       AssertionError",
                tickets=[TicketRef(key=KEYS[n % len(KEYS)])],
            )
        )
    return RunReport(name=f"bench linking {links}", cases=cases)


def child(links: int, concurrency: int, url: str, outbox: str) -> int:
    from tmupload.delivery.pipeline import upload
    from tmupload.settings import resolve

    run = build_run(links)
    settings = resolve(
        {
            "url": url,
            "project": PROJECT,
            "user": USER,
            "outbox": outbox,
            "link_concurrency": str(concurrency),
        },
        {},
        {"TMUPLOAD_PASSWORD": PASSWORD},
    )
    marks: dict[str, float] = {}

    def progress(message: str) -> None:
        if message.startswith("linking"):
            marks["linking"] = time.perf_counter()

    started = time.perf_counter()
    outcome = upload(run, settings, progress=progress)
    ended = time.perf_counter()
    delivery = outcome.delivery
    if delivery is None:
        print(json.dumps({"error": str(outcome.error)}))
        return 1
    statuses = Counter(link.status for link in delivery.links)
    print(
        json.dumps(
            {
                "links": links,
                "concurrency": concurrency,
                "ok": outcome.ok,
                "wall": ended - started,
                "link_wall": ended - marks.get("linking", ended),
                "requests": delivery.requests,
                "statuses": dict(statuses),
                "error": str(outcome.error) if outcome.error else None,
            }
        )
    )
    return 0 if outcome.ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", default="8,1", help="the two settings compared")
    parser.add_argument(
        "--quick", action="store_true", help="about 5 minutes on 2 cores: --pairs 2"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-concurrency", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--outbox", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "linking.json"))
    args = parser.parse_args()
    if args.child is not None:
        return child(args.child, args.child_concurrency, args.url, args.outbox)
    if args.quick:
        args.pairs = 2

    levels = [int(level) for level in args.concurrency.split(",")]
    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-linking-"))
    results: dict[int, list[dict[str, Any]]] = {level: [] for level in levels}
    started = time.perf_counter()
    with emulator_in_thread(latency=args.latency) as (emulator, _timed, url):
        base = [sys.executable, str(Path(__file__).resolve()), "--url", url]
        print(
            f"command: {' '.join(base)} --outbox DIR --child {args.links} "
            f"--child-concurrency C  (emulator latency {args.latency}s)",
            flush=True,
        )
        for pair in range(args.pairs):
            order = levels if pair % 2 == 0 else list(reversed(levels))
            for level in order:
                emulator.reset()
                proc = subprocess.run(
                    [
                        *base,
                        "--outbox",
                        str(scratch / f"outbox-{pair}-{level}"),
                        "--child",
                        str(args.links),
                        "--child-concurrency",
                        str(level),
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                lines = proc.stdout.strip().splitlines()
                if not lines:
                    raise SystemExit(f"child failed:\n{proc.stderr}")
                result = json.loads(lines[-1])
                if proc.returncode != 0:
                    raise SystemExit(f"child failed: {result}\n{proc.stderr}")
                log = list(emulator.requests)
                first = next(
                    (
                        i
                        for i, (method, path, _) in enumerate(log)
                        if method == "POST" and path.endswith("/api/backgroundtasks")
                    ),
                    len(log),
                )
                link_requests = log[first:]
                result["server_requests"] = len(log)
                result["link_requests"] = len(link_requests)
                result["link_posts"] = sum(1 for m, _, _ in link_requests if m == "POST")
                result["link_polls"] = sum(1 for m, _, _ in link_requests if m == "GET")
                result["per_link"] = len(link_requests) / args.links
                result["pair"] = pair
                results[level].append(result)
                print(
                    f"pair {pair + 1}/{args.pairs} concurrency {level}: upload "
                    f"{result['wall']:.2f}s, linking {result['link_wall']:.2f}s, "
                    f"{result['per_link']:.2f} requests/link "
                    f"({result['link_posts']} POST, {result['link_polls']} GET), "
                    f"{result['statuses']}",
                    flush=True,
                )
    elapsed = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)

    rows = []
    base_level = levels[0]
    for level in levels:
        runs = results[level]
        rows.append(
            [
                level,
                f"{median(r['wall'] for r in runs):.2f}",
                f"{median(r['link_wall'] for r in runs):.2f}",
                f"{min(r['link_wall'] for r in runs):.2f}-{max(r['link_wall'] for r in runs):.2f}",
                f"{1e3 * median(r['link_wall'] for r in runs) / args.links:.1f}",
                f"{median(r['per_link'] for r in runs):.2f}",
                f"{int(median(r['server_requests'] for r in runs))}",
            ]
        )
    print()
    print(
        f"{args.links} links, latency {args.latency * 1e3:.0f} ms, {args.pairs} pairs, "
        f"{elapsed:.0f}s in all; medians:"
    )
    print(
        fmt_table(
            [
                "concurrency",
                "upload s",
                "linking s",
                "linking min-max s",
                "ms/link",
                "requests/link",
                "requests in all",
            ],
            rows,
        )
    )
    for level in levels[1:]:
        ratio = median(r["link_wall"] for r in results[level]) / median(
            r["link_wall"] for r in results[base_level]
        )
        print(f"linking time, concurrency {level} / concurrency {base_level}: {ratio:.2f}x")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "links": args.links,
                "latency": args.latency,
                "pairs": args.pairs,
                "elapsed": elapsed,
                "results": {str(k): v for k, v in results.items()},
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
