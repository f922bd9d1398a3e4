"""What happened to one run: delivered, planned (dry run) or failed and kept."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tmupload.errors import TmUploadError
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Delivery

__all__ = ["UploadOutcome"]


@dataclass
class UploadOutcome:
    """What happened to one run: delivered, planned (dry run) or failed and kept."""

    run: RunReport
    settings: Settings
    delivery: Delivery | None = None
    error: TmUploadError | None = None
    outbox_entry: Path | None = None
    dry_run: bool = False
    manifest_path: Path | None = None
    seconds: float | None = None  # how long the upload itself took
    notes: list[str] = field(default_factory=list)
    deferred: bool = False  # spooled only (--defer): to be sent by tmupload send

    @property
    def ok(self) -> bool:
        """Every step succeeded (links to unknown tickets are reported, not failures)."""
        if self.error is not None:
            return False
        if self.deferred:
            return True
        if self.delivery is None:
            return False
        if any(item.status == "failed" for item in self.delivery.attachments):
            return False
        return not any(link.status in ("failed", "pending") for link in self.delivery.links)
