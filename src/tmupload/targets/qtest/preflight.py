"""What the pytest process checks of a qTest upload before the tests run (the status map),
and how its header line names the destination: light (no client, no network)."""

from __future__ import annotations

from tmupload.settings import Settings
from tmupload.targets.qtest.payload import parse_status_map

__all__ = ["preflight"]


def preflight(settings: Settings) -> str:
    parse_status_map(settings.option("status_map"), settings.names("status_map"))
    release = settings.option("release")
    where = f"test cycle {settings.option('cycle')!r}" + (
        f" in release {release!r}" if release else ""
    )
    return f"{settings.url} project {settings.project!r} (qTest Manager, {where})"
