"""What the pytest process checks of a Zephyr upload before the tests run (the status map's
syntax; its names are checked against the server's list by the courier, before any write),
and how its header line names the destination: light (no client, no network)."""

from __future__ import annotations

from tmupload.settings import Settings
from tmupload.targets.zephyr.statusmap import parse_status_map

__all__ = ["preflight"]


def preflight(settings: Settings) -> str:
    parse_status_map(settings.option("status_map"), settings.flag("status_map"))
    return (
        f"{settings.url} project {settings.project!r} (Zephyr Enterprise, release "
        f"{settings.option('release')!r}, cycle {settings.option('cycle')!r})"
    )
