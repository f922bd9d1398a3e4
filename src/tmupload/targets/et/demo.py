"""``tmupload demo --target et``: the ET emulator, the flags and login the example suite
needs, and the server's view of what landed (read back through the same REST API a real
server offers, so the demo shows node statuses and linked incidents, not our bookkeeping)."""

from __future__ import annotations

from typing import Any

from tmupload.emulation import EmulatorServer

__all__ = ["DEMO", "EtDemo"]

_USER = "admin"
_PASSWORD = "admin"


class EtDemo:
    title = "Enterprise Tester"
    login = f"login {_USER}/{_PASSWORD}"

    def serve(self) -> EmulatorServer[Any]:
        from tmupload.targets.et.emulator import Emulator, EmulatorConfig, serve_in_thread

        return serve_in_thread(Emulator(EmulatorConfig()))

    def environment(self) -> dict[str, str]:
        return {"TMUPLOAD_USER": _USER, "TMUPLOAD_PASSWORD": _PASSWORD}

    def pytest_args(self) -> list[str]:
        return [
            "--tm-target", "et", "--tm-project", "Demo",
            "--tm-script-package", "Examples/pytest",
            "--tm-execution-package", "Examples/Nightly",
            "--tm-automated-test", "example suite",
        ]  # fmt: skip

    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.settings import resolve
        from tmupload.targets.et.api import EtApi, et_client

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
            linked = [
                link["key"] for link in case.get("links", []) if link.get("status") != "failed"
            ]
            if case.get("result_id") and linked:
                keys_by_node[str(case["result_id"])] = linked
        with et_client(settings) as http:
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


DEMO = EtDemo()
