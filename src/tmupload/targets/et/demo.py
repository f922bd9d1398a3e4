"""``tmupload demo --target et``: the ET emulator, the flags and login the example suite
needs, and the server's view of what landed (read back through the same REST API a real
server offers, so the demo shows node statuses and linked incidents, not our bookkeeping)."""

from __future__ import annotations

from typing import Any

from tmupload.targets.toolkit.demo import EmulatorDemo, landed_run

__all__ = ["DEMO", "EtDemo"]


class EtDemo(EmulatorDemo):
    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.targets.et.api import EtApi, et_client

        run = landed_run(manifest, "run")
        if run is None:
            return
        run_id = str(run["id"])
        keys_by_node: dict[str, list[str]] = {}
        cases = manifest.get("cases")
        for case in cases if isinstance(cases, list) else []:
            linked = [
                link["key"] for link in case.get("links", []) if link.get("status") != "failed"
            ]
            if case.get("result_id") and linked:
                keys_by_node[str(case["result_id"])] = linked
        with et_client(self.settings(url)) as http:
            api = EtApi(http)
            et_run = api.run(run_id)
            print(f"\nWhat the server holds for run {run_id} (status {et_run.Status}):")
            totals = et_run.Totals or {}
            shown = ("Passed", "Failed", "Errors", "Skipped", "TotalResults")
            print("  totals: " + ", ".join(f"{key} {totals.get(key, 0)}" for key in shown))
            for _ancestors, node in api.walk_nodes(run_id):
                if node.HasChildren or node.Children:
                    print(f"  {node.Name}")
                    continue
                tickets = ""
                if node.HasIncidents:
                    incidents = api.node_incidents(run_id, node.Id)
                    keys = ", ".join(keys_by_node.get(node.Id, []))
                    tickets = f"  -> {keys} ({len(incidents)} incident(s) linked on the server)"
                print(f"    {node.Status or '?':<8} {node.Name}{tickets}")


DEMO = EtDemo(
    target="et",
    credentials={"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": "admin"},
    options={
        "script_package": "Examples/pytest",
        "execution_package": "Examples/Nightly",
        "automated_test": "example suite",
    },
)
