"""Where the sample reports live, and the command line that imports into the emulator."""

from __future__ import annotations

from pathlib import Path

from live import Live

DATA = Path(__file__).resolve().parents[1] / "data" / "junit"


def import_args(live: Live, tmp_path: Path, *inputs: str | Path) -> list[str]:
    """``tmupload import`` arguments for the emulator, with the outbox in ``tmp_path``."""
    return [
        "import",
        *(str(item) for item in inputs),
        "--url",
        live.url,
        "--project",
        "Demo",
        "--outbox",
        str(tmp_path / "outbox"),
    ]
