"""What the pytest process checks of an Enterprise Tester upload before the tests run, and
how its header line names the destination: light (no client, no network)."""

from __future__ import annotations

from tmupload.settings import Settings

__all__ = ["preflight"]


def preflight(settings: Settings) -> str:
    s = settings
    return (
        f"{s.url} project {s.project!r} (Enterprise Tester, "
        f"execution package {s.option('execution_package')!r})"
    )
