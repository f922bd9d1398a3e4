"""``tmupload demo --target T``: start T's emulator, run an example suite through the plugin,
show what landed (each target's ``demo`` module says how to start and read its emulator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tmupload.errors import ConfigError, InputError
from tmupload.targets.registry import DEFAULT_TARGET, get_spec, load_attribute

__all__ = ["run_demo"]


def _pytest_command(
    suite: Path, url: str, work: Path, workers: int, target_args: list[str]
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(suite),
        "--rootdir",
        str(suite),
        "-p",
        "no:cacheprovider",
        "--tm-upload",
        "--tm-url",
        url,
        *target_args,
        "--tm-manifest",
        str(work / "manifest.json"),
        "--tm-outbox",
        str(work / "outbox"),
        "-q",
    ]
    if workers:
        command += ["-n", str(workers)]
    return command


def run_demo(
    *, suite: Path, workers: int = 0, keep_running: bool = False, target: str = DEFAULT_TARGET
) -> int:
    spec = get_spec(target)
    if spec.demo is None:
        raise ConfigError(f"there is no demo for {spec.title} yet")
    demo = load_attribute(spec.demo)

    suite = suite.resolve()
    if not suite.is_dir():
        raise InputError(
            f"the demo suite {suite} does not exist; run the demo from the project's checkout "
            "or pass --suite PATH"
        )
    with demo.serve() as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"demo: {spec.title} emulator at {server.url} ({demo.login})")
        command = _pytest_command(suite, server.url, work, workers, demo.pytest_args())
        print("demo: running " + " ".join(["pytest", *command[4:]]), flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUPLOAD_")}
        env.update(demo.environment())
        started = time.perf_counter()
        completed = subprocess.run(command, env=env, cwd=suite, check=False)
        elapsed = time.perf_counter() - started
        print(
            f"demo: pytest exited with {completed.returncode} after {elapsed:.1f}s "
            "(the example suite fails on purpose)"
        )
        manifest_path = work / "manifest.json"
        if not manifest_path.is_file():
            print("demo: the upload wrote no manifest; see the messages above", file=sys.stderr)
            return 1
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        demo.show(server.url, manifest)
        if not keep_running:
            print(
                "\ndemo: done (the emulator stops now). To browse the run in the emulator's page, "
                f"run: tmupload demo --target {target} --keep-running"
            )
        else:
            print(f"\ndemo: open {server.url}/ to browse what landed")
            print("demo: the emulator keeps running; press Ctrl-C to stop", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if manifest.get("status") == "uploaded" else 1
