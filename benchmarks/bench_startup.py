"""The plugin's start-up cost: what importing it adds to every pytest run in the environment.

Run: ``.venv/bin/python benchmarks/bench_startup.py`` (``--help`` for the knobs; about 2 minutes).

The pytest11 entry point (``tmupload.plugin``) is imported by every pytest session of an
environment where pytest-tmupload is installed, upload on or not, and its ``pytest_addoption``
reads every target's options (``tmupload.targets.registry.all_options()``, which imports each
target's ``spec`` module with ``importlib.import_module``, which ``-X importtime`` does not
trace: the statement measured imports them by name first). Two measurements, each in fresh
processes:

* ``python -X importtime -c STATEMENT``, the ``self`` column summed over every module, for
  ``import pytest`` (the floor), ``import tmupload.plugin`` and ``import tmupload.plugin``
  followed by ``all_options()`` (what a session start does). The difference to ``import pytest``
  is what the plugin adds; the modules it adds are listed (from the median run).
* ``python -m pytest --version`` wall time, the plugin installed against ``-p no:tmupload``
  (an entry point blocked with ``-p no:`` is never imported), run in an empty directory.
  ``--version`` loads the plugins (it is answered after the command line is parsed) and runs
  no session.

What the plugin adds is reported per run, which is steadier than a difference of medians on
a shared machine: for importtime, the summed self time of the modules ``import pytest`` does
not import (pytest's own import time, ~130 ms, varies by more than the plugin costs); for
``--version``, the difference to the ``-p no:tmupload`` run of the same round.

With ``--before-src DIR`` the same is measured with tmupload imported from DIR (a ``git
archive`` of an earlier commit) as well: ``before``. Every variant runs once per round, in an
order that rotates, for ``--rounds`` rounds; medians and min-max are printed. Bytecode is
cached (a warm-up run of each variant first). Results go to ``benchmarks/out/startup.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fmt_table, machine, median, print_machine

STATEMENTS = {
    "import pytest": "import pytest",
    "import tmupload.plugin": "import tmupload.plugin",
    # -X importtime traces only the import statement, not importlib.import_module(), which is
    # how the registry loads the targets' spec modules: import them by statement first.
    "plugin + all_options()": "import tmupload.plugin\n"
    + "".join(
        f"try:\n    import tmupload.targets.{name}.spec\nexcept ImportError:\n    pass\n"
        for name in ("et", "qtest", "zephyr")
    )
    + (
        "try:\n"
        "    from tmupload.targets.registry import all_options\n"
        "except ImportError:\n"
        "    pass\n"
        "else:\n"
        "    all_options()"
    ),
}
VERSION_VARIANTS = ("installed", "-p no:tmupload")


def child_env(src: str | None, pycache: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "TMUPLOAD_")) and key != "PYTHONDONTWRITEBYTECODE"
    }
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(src).resolve()), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    return env


def importtime(statement: str, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """One ``-X importtime`` run: the summed self time (s) and each module's self time (µs)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    modules: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, name = _fields(line)
        modules[name] = modules.get(name, 0) + self_us
    return {"total": sum(modules.values()) / 1e6, "modules": modules}


def _fields(line: str) -> tuple[int, str]:
    """``import time: SELF | CUMULATIVE | NAME`` -> (SELF in µs, NAME)."""
    head, _cumulative, name = line.split("|")
    return int(head.split(":")[1]), name.strip()


def version_wall(extra: list[str], env: dict[str, str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--version", *extra],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"pytest --version {' '.join(extra)} failed:\n{proc.stderr}")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--before-src", help="also measure tmupload imported from this src/")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "startup.json"))
    args = parser.parse_args()

    print_machine()
    scratch = Path(tempfile.mkdtemp(prefix="tmupload-bench-startup-"))
    empty = scratch / "empty"
    empty.mkdir()
    sources: dict[str, str | None] = {"now": None}
    if args.before_src:
        sources["before"] = args.before_src
    envs = {label: child_env(src, scratch / f"pycache-{label}") for label, src in sources.items()}
    plan: list[tuple[str, str, str]] = []
    for label in sources:
        plan += [("importtime", label, name) for name in STATEMENTS if name != "import pytest"]
        plan += [("version", label, name) for name in VERSION_VARIANTS]
    plan.insert(0, ("importtime", "now", "import pytest"))
    for kind, label, name in plan:
        prefix = f"PYTHONPATH={sources[label]} " if sources[label] else ""
        if kind == "importtime":
            print(f"command [{label}]: {prefix}python -X importtime -c {STATEMENTS[name]!r}")
        else:
            extra = "" if name == "installed" else f" {name}"
            print(f"command [{label}]: {prefix}python -m pytest --version{extra}  (in {empty})")

    def measure(kind: str, label: str, name: str) -> dict[str, Any]:
        env = envs[label]
        if kind == "importtime":
            return importtime(STATEMENTS[name], env, empty)
        extra = [] if name == "installed" else name.split()
        return {"total": version_wall(extra, env, empty)}

    for step in plan:  # warm-up: write the bytecode caches
        measure(*step)
    results: dict[tuple[str, str, str], list[dict[str, Any]]] = {step: [] for step in plan}
    started = time.perf_counter()
    for round_no in range(args.rounds):
        shift = round_no % len(plan)
        for step in plan[shift:] + plan[:shift]:
            results[step].append(measure(*step))
    elapsed = time.perf_counter() - started

    def totals(step: tuple[str, str, str]) -> list[float]:
        return [r["total"] for r in results[step]]

    # What the plugin adds, per run: the self time of the modules `import pytest` does not
    # import (steadier than a difference of totals, which carries pytest's own noise), and
    # for --version the difference to the -p no:tmupload run of the same round.
    pytest_modules: set[str] = set()
    for run in results[("importtime", "now", "import pytest")]:
        pytest_modules.update(run["modules"])

    def added(run: dict[str, Any]) -> float:
        modules: dict[str, int] = run["modules"]
        return sum(us for name, us in modules.items() if name not in pytest_modules) / 1e6

    def span(values: list[float]) -> str:
        return f"{1e3 * median(values):.1f} ({1e3 * min(values):.1f}-{1e3 * max(values):.1f})"

    rows = []
    for step in plan:
        kind, label, name = step
        runs = results[step]
        values = totals(step)
        if kind == "importtime":
            extra = span([added(r) for r in runs]) if name != "import pytest" else "(floor)"
        elif name == "installed":
            base = totals(("version", label, "-p no:tmupload"))
            extra = span([a - b for a, b in zip(values, base, strict=True)])
        else:
            extra = "(floor)"
        rows.append(
            [
                "importtime, self summed" if kind == "importtime" else "pytest --version wall",
                label,
                name,
                span(values),
                extra,
            ]
        )
    print()
    print(f"{args.rounds} rounds, {elapsed:.0f}s; medians (min-max), ms:")
    print(
        fmt_table(
            [
                "measure",
                "tmupload",
                "variant",
                "median (min-max) ms",
                "added: modules beyond pytest's / paired difference to -p no:tmupload, ms",
            ],
            rows,
        )
    )

    # The modules the plugin adds on top of pytest, from the run with the median added time.
    listing: dict[str, Any] = {}
    for label in sources:
        runs = sorted(results[("importtime", label, "plugin + all_options()")], key=added)
        mid = runs[len(runs) // 2]["modules"]
        extra_modules = {n: us for n, us in mid.items() if n not in pytest_modules}
        ours = {n: us for n, us in extra_modules.items() if n.startswith("tmupload")}
        listing[label] = extra_modules
        print()
        print(
            f"[{label}] modules the plugin (with all_options()) adds to `import pytest` "
            f"(median run): {len(extra_modules)}, {sum(extra_modules.values()) / 1e3:.1f} ms "
            f"self in all; tmupload's own: {len(ours)}, {sum(ours.values()) / 1e3:.1f} ms"
        )
        top = sorted(extra_modules.items(), key=lambda item: -item[1])[:12]
        print("  largest self times (ms): " + ", ".join(f"{n} {us / 1e3:.1f}" for n, us in top))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": machine(),
                "rounds": args.rounds,
                "before_src": args.before_src,
                "elapsed": elapsed,
                "results": {
                    " | ".join(step): [r["total"] for r in runs] for step, runs in results.items()
                },
                "added_modules_us": listing,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
