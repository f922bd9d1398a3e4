"""``tmupload demo --target qtest``: the qTest emulator, the flags and token the example
suite needs, and the server's view of what landed (read back through the same REST API a real
site offers: the runs under the cycle, their latest statuses and the defects on their logs)."""

from __future__ import annotations

from typing import Any

from tmupload.emulation import EmulatorServer

__all__ = ["DEMO", "QTestDemo"]

_TOKEN = "demo-token"
_CYCLE = "CI/demo"


class QTestDemo:
    title = "qTest Manager"
    login = f"API token {_TOKEN}"

    def serve(self) -> EmulatorServer[Any]:
        from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig, serve_in_thread

        return serve_in_thread(Emulator(EmulatorConfig()))

    def environment(self) -> dict[str, str]:
        return {"TMUPLOAD_TOKEN": _TOKEN}

    def pytest_args(self) -> list[str]:
        return ["--tm-target", "qtest", "--tm-project", "Demo", "--tm-cycle", _CYCLE]

    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.settings import resolve
        from tmupload.targets.qtest.api import QTestApi, qtest_client
        from tmupload.targets.qtest.placement import resolve_placement
        from tmupload.targets.qtest.readback import RunIndex, run_status

        settings = resolve(
            {"url": url, "project": "Demo", "target": "qtest", "cycle": _CYCLE},
            {},
            {"TMUPLOAD_TOKEN": _TOKEN},
        )
        with qtest_client(settings) as http:
            api = QTestApi(http)
            placement = resolve_placement(
                api, project="Demo", cycle_path=_CYCLE, release=None, create=False
            )
            if placement.cycle_id is None:
                print("demo: no test cycle landed (see the messages above)")
                return
            index = RunIndex.read(api, placement.project_id, placement.cycle_id)
            print(f"\nWhat qTest holds under test cycle {_CYCLE} ({placement.cycle_pid}):")
            for content, runs in sorted(index.runs.items()):
                run = runs[0]
                latest = api.last_log(placement.project_id, str(run["id"]))
                keys = (
                    sorted(api.linked_defects(placement.project_id, str(latest["id"])))
                    if latest is not None
                    else []
                )
                tickets = f"  -> {', '.join(keys)}" if keys else ""
                print(f"  {run_status(run) or '?':<10} {run.get('pid', '')} {content}{tickets}")
            print(f"  open {manifest.get('run', {}).get('url') or url}")


DEMO = QTestDemo()
