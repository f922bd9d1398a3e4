"""``tmupload demo``: start the emulator, run an example suite through the plugin, show what landed.

What landed is read back from the emulator through the same REST API a real server offers, so
the demo shows the server's view (node statuses, linked incidents), not our own bookkeeping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tmupload.errors import InputError

__all__ = ["run_demo"]

_PASSWORD = "admin"
_USER = "admin"


def _pytest_command(suite: Path, url: str, work: Path, workers: int) -> list[str]:
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
        "--tm-project",
        "Demo",
        "--tm-manifest",
        str(work / "manifest.json"),
        "--tm-outbox",
        str(work / "outbox"),
        "-q",
    ]
    if workers:
        command += ["-n", str(workers)]
    return command


def _show_server_view(url: str, manifest: dict[str, object]) -> None:
    from tmupload.http.client import HttpClient
    from tmupload.settings import resolve
    from tmupload.targets.et.api import EtApi

    settings = resolve(
        {"url": url, "project": "Demo", "user": _USER}, {}, {"TMUPLOAD_PASSWORD": _PASSWORD}
    )
    run = manifest.get("run")
    run_id = run.get("id") if isinstance(run, dict) else None
    if not run_id:
        print("demo: no run landed (see the messages above)")
        return
    keys_by_node: dict[str, list[str]] = {}
    cases = manifest.get("cases")
    for case in cases if isinstance(cases, list) else []:
        linked = [link["key"] for link in case.get("links", []) if link.get("status") != "failed"]
        if case.get("node_id") and linked:
            keys_by_node[str(case["node_id"])] = linked
    with HttpClient(settings) as http:
        api = EtApi(http)
        et_run = api.run(str(run_id))
        print(f"\nWhat the server holds for run {run_id} (status {et_run.Status}):")
        totals = et_run.Totals or {}
        shown = ("Passed", "Failed", "Errors", "Skipped", "TotalResults")
        print("  totals: " + ", ".join(f"{key} {totals.get(key, 0)}" for key in shown))
        for _ancestors, node in api.walk_nodes(str(run_id)):
            if node.HasChildren or node.Children:
                print(f"  {node.Name}")
                continue
            tickets = ""
            if node.HasIncidents:
                incidents = api.node_incidents(str(run_id), node.Id)
                keys = ", ".join(keys_by_node.get(node.Id, []))
                tickets = f"  -> {keys} ({len(incidents)} incident(s) linked on the server)"
            print(f"    {node.Status or '?':<8} {node.Name}{tickets}")


def run_demo(*, suite: Path, workers: int = 0, keep_running: bool = False) -> int:
    from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread

    suite = suite.resolve()
    if not suite.is_dir():
        raise InputError(
            f"the demo suite {suite} does not exist; run the demo from the project's checkout "
            "or pass --suite PATH"
        )
    emulator = Emulator(EmulatorConfig())
    with serve_in_thread(emulator) as server, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print(f"demo: Enterprise Tester emulator at {server.url} (login {_USER}/{_PASSWORD})")
        command = _pytest_command(suite, server.url, work, workers)
        print("demo: running " + " ".join(["pytest", *command[4:]]), flush=True)
        env = dict(os.environ, TMUPLOAD_USER=_USER, TMUPLOAD_PASSWORD=_PASSWORD)
        env.pop("TMUPLOAD_UPLOAD", None)
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
        _show_server_view(server.url, manifest)
        if not keep_running:
            print(
                "\ndemo: done (the emulator stops now). To browse the run in the emulator's page, "
                "run: tmupload demo --keep-running"
            )
        else:
            print(f"\ndemo: open {server.url}/ to browse projects, runs, nodes and links")
            print("demo: the emulator keeps running; press Ctrl-C to stop", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if manifest.get("status") == "uploaded" else 1
