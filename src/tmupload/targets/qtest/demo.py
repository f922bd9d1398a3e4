"""``tmupload demo --target qtest``: the qTest emulator, the flags and token the example
suite needs, and the server's view of what landed (read back through the same REST API a real
site offers: the runs under the cycle, their latest statuses and the defects on their logs)."""

from __future__ import annotations

from typing import Any

from tmupload.targets.toolkit.demo import DEMO_PROJECT, DEMO_TOKEN, EmulatorDemo, tickets

__all__ = ["DEMO", "QTestDemo"]

_CYCLE = "CI/demo"


class QTestDemo(EmulatorDemo):
    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.targets.qtest.api import QTestApi, qtest_client
        from tmupload.targets.qtest.placement import resolve_placement
        from tmupload.targets.qtest.readback import RunIndex, run_status

        with qtest_client(self.settings(url)) as http:
            api = QTestApi(http)
            placement = resolve_placement(
                api, project=DEMO_PROJECT, cycle_path=_CYCLE, release=None, create=False
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
                status = run_status(run) or "?"
                print(f"  {status:<10} {run.get('pid', '')} {content}{tickets(keys)}")
            print(f"  open {manifest.get('run', {}).get('url') or url}")


DEMO = QTestDemo(
    target="qtest",
    credentials=DEMO_TOKEN,
    options={"cycle": _CYCLE},
)
