"""``tmupload demo --target zephyr``: the Zephyr emulator, the flags and token the example
suite needs, and the server's view of what landed (read back through the same REST API a
real server offers: the phase's executions, their statuses and defects)."""

from __future__ import annotations

from typing import Any

from tmupload.targets.toolkit.demo import DEMO_TOKEN, EmulatorDemo, landed_run, tickets

__all__ = ["DEMO", "ZephyrDemo"]


class ZephyrDemo(EmulatorDemo):
    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.targets.zephyr.api import ZephyrApi, zephyr_client
        from tmupload.targets.zephyr.linking import defect_keys
        from tmupload.targets.zephyr.placement import server_statuses

        run = landed_run(manifest, "phase")
        if run is None:
            return
        phase_id = run["id"]
        with zephyr_client(self.settings(url)) as http:
            api = ZephyrApi(http)
            names = {s.id: s.name for s in server_statuses(api)}
            print(f"\nWhat Zephyr holds in phase {phase_id} ({run.get('where')}):")
            for item in api.executions(int(phase_id)):
                tct = item.get("tcrTreeTestcase") or {}
                name = (tct.get("testcase") or {}).get("name", "?")
                status = names.get(str(item.get("status")), str(item.get("status")))
                keys = sorted(defect_keys(item) or [])
                print(f"  {status:<13} {name}{tickets(key.upper() for key in keys)}")
            print(f"  open {url}/?phase={phase_id} (the emulator's page)")


DEMO = ZephyrDemo(
    target="zephyr",
    credentials=DEMO_TOKEN,
    options={"release": "2026.4", "cycle": "Nightly"},
)
