"""Session-end cost of attachments: 200 failing tests, a 100 KB file each, per target.

Run: ``.venv/bin/python benchmarks/bench_attachments.py [--quick]`` (``--help`` for the knobs).

The suite (written to a scratch directory): ``--tests`` (200) tests that all fail with a short
assertion; when ``BENCH_ATTACH_BYTES`` is set, each first attaches that many bytes (100,000 by
default; distinct, incompressible bytes per test) with the ``tm_attach`` fixture. Every
session is ``python -m pytest -p no:cacheprovider -p _session_clock`` in that directory, with
``benchmarks/`` on ``PYTHONPATH`` so that the helper plugin ``_session_clock.py`` loads: it
stamps the end of the last test, the ``pytest_sessionfinish`` hooks (tmupload uploads there)
and the last ``pytest_unconfigure``, and reads tmupload's own figures after the upload.

Variants, per target (ET, qTest, Zephyr, each against its emulator in a process of its own,
reset before every session, then primed with a one-case upload of another test so that the
placement exists, as for every run after the first; ``--first-upload`` leaves that out):

* ``T/none``: no file, ``--tm-attach none``: no attachment at all (the baseline);
* ``T/output``: no file, the default ``--tm-attach output``: an ``output.txt`` per failing test;
* ``T/file``: the 100 KB file, ``--tm-attach none``: exactly one 100 KB attachment per test;
* ``T/file+output``: the file and the default: what a user gets (two attachments per test);

and ``bare`` (``-p no:tmupload``, no file): pytest's own session end for the same failures
(its terminal summary prints 200 tracebacks). The variants run round-robin, the first moving
by one each round, after one unmeasured warm-up session each (bytecode caches).

"Session end" is the time from the end of the last test to the end of the session: to the last
``pytest_unconfigure`` (the plugin's stamp) and to the process exit as the driver sees it
(``time.monotonic()`` is one clock for all processes on Linux). Requests and bytes: every
request the session's ``httpx`` transports sent after the last test ended, and the bytes of
their bodies (the head start's requests, made while the tests ran, are counted apart);
``Delivery.requests`` and the attachments sent, from tmupload's collector; the emulator's
own request log. Results also go to ``benchmarks/out/attachments.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    EMULATOR_PACKAGES,
    HERE,
    EmulatorProcess,
    fmt_table,
    machine,
    median,
    prime,
    print_machine,
    pytest_target_args,
    run_clocked,
    session_env,
)

MODES = ("none", "output", "file", "file+output")
#: Emulator configuration per target (as in bench_upload.py).
EMULATOR_CONFIG: dict[str, dict[str, Any]] = {"et": {}, "qtest": {"job_delay": 0.0}, "zephyr": {}}

TEST_MODULE = """\
import os
import random

import pytest

SIZE = int(os.environ.get("BENCH_ATTACH_BYTES") or 0)


@pytest.mark.parametrize("n", range({tests}))
def test_checkout_page(n, request):
    if SIZE:
        data = random.Random(n).randbytes(SIZE)
        request.getfixturevalue("tm_attach")(data, name=f"screenshot-{{n:03d}}.png")
    assert n < 0, f"checkout page {{n}} shows the wrong total"
"""


def write_suite(folder: Path, tests: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "test_checkout.py").write_text(TEST_MODULE.format(tests=tests), encoding="utf-8")


def session_command(
    variant: str, url: str | None, outbox: Path
) -> tuple[list[str], dict[str, str]]:
    """The pytest command line and the environment added for ``variant``."""
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "_session_clock"]
    if variant == "bare":
        return [*base, "-p", "no:tmupload"], {}
    target, mode = variant.split("/")
    assert url is not None
    args, env = pytest_target_args(target, url)
    args += ["--tm-outbox", str(outbox)]
    if mode in ("none", "file"):
        args += ["--tm-attach", "none"]
    return [*base, *args], env


def run_session(
    variant: str,
    suite: Path,
    url: str | None,
    scratch: Path,
    size: int,
    tag: str,
) -> dict[str, Any]:
    outbox = scratch / f"outbox-{tag}"
    command, extra_env = session_command(variant, url, outbox)
    attach = str(size) if variant.endswith(("/file", "/file+output")) else ""
    env = session_env(scratch, extra={**extra_env, "BENCH_ATTACH_BYTES": attach})
    log = scratch / f"session-{tag}.log"
    stamps = run_clocked(command, suite, env, scratch / f"clock-{tag}.json", log)
    code = stamps["returncode"]
    if code != 1:  # every test fails: 1 is the only right exit status
        raise SystemExit(f"{variant}: pytest exited {code}; see {log}:\n{log.read_text()[-3000:]}")
    if variant != "bare" and not stamps.get("upload_ok"):
        raise SystemExit(f"{variant}: the upload failed: {stamps.get('upload_error')} (see {log})")
    shutil.rmtree(outbox, ignore_errors=True)
    log.unlink()
    return stamps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="et,qtest,zephyr", help="targets side by side")
    parser.add_argument("--modes", default=",".join(MODES), help="variants per target")
    parser.add_argument("--tests", type=int, default=200, help="failing tests per session")
    parser.add_argument("--size", type=int, default=100_000, help="bytes of each test's file")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 rounds")
    parser.add_argument(
        "--first-upload",
        action="store_true",
        help="do not prime the emulators: every session is the project's first upload",
    )
    parser.add_argument("--out", default=str(HERE / "out" / "attachments.json"))
    args = parser.parse_args()
    if args.quick:
        args.rounds = 3
    targets = [t for t in args.targets.split(",") if t]
    modes = [m for m in args.modes.split(",") if m]
    for target in targets:
        if target not in EMULATOR_PACKAGES:
            parser.error(f"unknown target {target!r}; choose from {', '.join(EMULATOR_PACKAGES)}")
    for mode in modes:
        if mode not in MODES:
            parser.error(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    variants = ["bare", *(f"{t}/{m}" for t in targets for m in modes)]
    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-attach-"))
    suite = scratch / "suite"
    write_suite(suite, args.tests)
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    emulators: dict[str, EmulatorProcess] = {}
    started = time.perf_counter()
    try:
        for target in targets:
            emulators[target] = EmulatorProcess(target, EMULATOR_CONFIG[target])
            print(f"emulator [{target}]: {emulators[target].command}", flush=True)
        for variant in variants:
            url = None if variant == "bare" else emulators[variant.split("/")[0]].url
            command, extra = session_command(variant, url, scratch / "OUTBOX")
            shown = " ".join(f"{k}={v}" for k, v in extra.items())
            print(f"[{variant}] (cwd {suite}) {shown} {' '.join(command)}", flush=True)
        print(
            f"every session: PYTHONPATH={HERE} BENCH_SESSION_CLOCK_OUT=FILE "
            f"PYTHONPYCACHEPREFIX={scratch / 'pycache'}; BENCH_ATTACH_BYTES={args.size} for "
            "the file variants",
            flush=True,
        )

        def one(variant: str, tag: str) -> dict[str, Any]:
            emulator = None if variant == "bare" else emulators[variant.split("/")[0]]
            seen = 0
            if emulator is not None:
                emulator.reset()
                if not args.first_upload:
                    prime(variant.split("/")[0], emulator.url, scratch)
                seen = len(emulator.requests())
            result = run_session(
                variant, suite, emulator.url if emulator else None, scratch, args.size, tag
            )
            result["server_requests"] = len(emulator.requests()) - seen if emulator else 0
            return result

        for variant in variants:  # warm-up: bytecode caches, the emulators' first answers
            one(variant, "warmup")
        for round_no in range(args.rounds):
            shift = round_no % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                result = one(variant, f"{round_no}-{variant.replace('/', '-')}")
                result["round"] = round_no
                results[variant].append(result)
                print(
                    f"round {round_no + 1}/{args.rounds} {variant:18} session end "
                    f"{result['session_end']:.2f}s (to exit {result['to_exit']:.2f}s, "
                    f"sessionfinish {result['sessionfinish']:.2f}s, "
                    f"upload {result.get('upload_seconds') or 0:.2f}s), "
                    f"{result['end_requests']} requests after the tests "
                    f"({result['wire_requests_during_tests']} during them; server saw "
                    f"{result['server_requests']}), {result['end_body_bytes']:,} body bytes, "
                    f"{result.get('attachments_sent', 0)} attachments, "
                    f"session {result['wall']:.2f}s",
                    flush=True,
                )
    finally:
        for emulator in emulators.values():
            emulator.stop()
    elapsed = time.perf_counter() - started
    shutil.rmtree(scratch, ignore_errors=True)

    def med(variant: str, field: str) -> float:
        return median(float(r.get(field) or 0) for r in results[variant])

    def spread(variant: str, field: str) -> str:
        values = [float(r.get(field) or 0) for r in results[variant]]
        return f"{min(values):.2f}-{max(values):.2f}"

    rows = []
    for variant in variants:
        rows.append(
            [
                variant,
                f"{med(variant, 'session_end'):.2f}",
                spread(variant, "session_end"),
                f"{med(variant, 'to_exit'):.2f}",
                f"{med(variant, 'sessionfinish'):.2f}",
                f"{int(med(variant, 'end_requests'))}",
                f"{int(med(variant, 'wire_requests_during_tests'))}",
                f"{int(med(variant, 'server_requests'))}",
                f"{int(med(variant, 'end_body_bytes')):,}",
                f"{int(med(variant, 'attachments_sent'))}",
                f"{int(med(variant, 'attachment_bytes')):,}",
                f"{med(variant, 'wall'):.2f}",
            ]
        )
    print()
    print(
        f"{args.rounds} rounds, {elapsed:.0f}s in all; {args.tests} failing tests, "
        f"{args.size:,} bytes per file; medians (min-max):"
    )
    print(
        fmt_table(
            [
                "variant",
                "session end s",
                "min-max s",
                "to process exit s",
                "sessionfinish s",
                "requests after the tests",
                "requests during the tests",
                "requests (server)",
                "body bytes after the tests",
                "attachments sent",
                "attachment bytes",
                "session wall s",
            ],
            rows,
        )
    )

    def per_round(num: str, den: str, field: str) -> list[float]:
        return [a[field] - b[field] for a, b in zip(results[num], results[den], strict=True)]

    ratio_rows = []
    for target in targets:
        base = f"{target}/none"
        for mode in modes:
            variant = f"{target}/{mode}"
            if variant == base or base not in results:
                continue
            diffs = per_round(variant, base, "session_end")
            ratios = [
                a["session_end"] / b["session_end"]
                for a, b in zip(results[variant], results[base], strict=True)
            ]
            ratio_rows.append(
                [
                    f"{variant} vs {base}",
                    f"{median(diffs):+.2f} ({min(diffs):+.2f} to {max(diffs):+.2f})",
                    f"{median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})",
                    f"{int(med(variant, 'end_requests') - med(base, 'end_requests')):+d}",
                    f"{int(med(variant, 'end_body_bytes') - med(base, 'end_body_bytes')):+,}",
                ]
            )
        if base in results:
            diffs = per_round(base, "bare", "session_end")
            ratio_rows.append(
                [
                    f"{base} vs bare",
                    f"{median(diffs):+.2f} ({min(diffs):+.2f} to {max(diffs):+.2f})",
                    "",
                    f"{int(med(base, 'end_requests')):+d}",
                    f"{int(med(base, 'end_body_bytes')):+,}",
                ]
            )
    print()
    print("paired per round (session end; requests and bytes after the tests):")
    print(
        fmt_table(
            ["comparison", "added s, median (min to max)", "ratio", "requests", "body bytes"],
            ratio_rows,
        )
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "rounds": args.rounds,
                "tests": args.tests,
                "size": args.size,
                "elapsed": elapsed,
                "emulator_config": EMULATOR_CONFIG,
                "results": results,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
