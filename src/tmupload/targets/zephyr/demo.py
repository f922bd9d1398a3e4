"""``tmupload demo --target zephyr``: the Zephyr emulator, the flags and token the example
suite needs, and the server's view of what landed (read back through the same REST API a
real server offers: the phase's executions, their statuses and defects)."""

from __future__ import annotations

from typing import Any

from tmupload.emulation import EmulatorServer

__all__ = ["DEMO", "ZephyrDemo"]

_TOKEN = "demo-token"
_RELEASE = "2026.4"
_CYCLE = "Nightly"


class ZephyrDemo:
    title = "Zephyr Enterprise"
    login = f"API token {_TOKEN}"

    def serve(self) -> EmulatorServer[Any]:
        from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig, serve_in_thread

        return serve_in_thread(Emulator(EmulatorConfig()))

    def environment(self) -> dict[str, str]:
        return {"TMUPLOAD_TOKEN": _TOKEN}

    def pytest_args(self) -> list[str]:
        return [
            "--tm-target", "zephyr", "--tm-project", "Demo",
            "--tm-release", _RELEASE, "--tm-cycle", _CYCLE,
        ]  # fmt: skip

    def show(self, url: str, manifest: dict[str, Any]) -> None:
        from tmupload.settings import resolve
        from tmupload.targets.zephyr.api import ZephyrApi, zephyr_client
        from tmupload.targets.zephyr.linking import defect_keys
        from tmupload.targets.zephyr.placement import server_statuses

        run = manifest.get("run")
        phase_id = run.get("id") if isinstance(run, dict) else None
        if not phase_id:
            print("demo: no phase landed (see the messages above)")
            return
        settings = resolve(
            {"url": url, "project": "Demo", "target": "zephyr", "release": _RELEASE},
            {},
            {"TMUPLOAD_TOKEN": _TOKEN},
        )
        with zephyr_client(settings) as http:
            api = ZephyrApi(http)
            names = {s.id: s.name for s in server_statuses(api)}
            where = run.get("where") if isinstance(run, dict) else None
            print(f"\nWhat Zephyr holds in phase {phase_id} ({where}):")
            for item in api.executions(int(phase_id)):
                tct = item.get("tcrTreeTestcase") or {}
                name = (tct.get("testcase") or {}).get("name", "?")
                status = names.get(str(item.get("status")), str(item.get("status")))
                keys = sorted(defect_keys(item) or [])
                tickets = f"  -> {', '.join(k.upper() for k in keys)}" if keys else ""
                print(f"  {status:<13} {name}{tickets}")
            print(f"  open {url}/?phase={phase_id} (the emulator's page)")


DEMO = ZephyrDemo()
