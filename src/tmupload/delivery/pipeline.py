"""One function sends a run, whichever front end built it: spool, deliver, report.

``upload()`` is what the pytest plugin calls at the end of a session and what ``tmupload
import`` calls after reading files; ``resend()`` finishes what an earlier upload left in the
outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tmupload.delivery.outbox import Outbox, OutboxEntry
from tmupload.errors import ConfigError, ServerError, TmUploadError
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Delivery, Target

__all__ = ["UploadOutcome", "make_target", "resend", "upload"]

log = logging.getLogger("tmupload")

Progress = Callable[[str], None]

# Where a spooled run goes and what gets linked were fixed when it was spooled; credentials,
# TLS and time limits always come from the current settings (they are never stored).
_STORED_PLACEMENT = (
    "url",
    "project",
    "script_package",
    "automated_test",
    "execution_package",
    "link_on",
    "no_link",
    "link_failures",
    "xfail_as",
)


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
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every step succeeded (links to unknown tickets are reported, not failures)."""
        if self.error is not None:
            return False
        if self.delivery is None:
            return False
        return not any(link.status in ("failed", "pending") for link in self.delivery.links)


def make_target(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
) -> Target:
    from tmupload.targets.et.target import EtTarget

    return EtTarget(settings, transport=transport, progress=progress or (lambda _: None))


def upload(
    run: RunReport,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
) -> UploadOutcome:
    """Send ``run`` as ``settings`` say.

    Raises ConfigError or InputError (e.g. a bad ticket map) before anything is written or
    sent; server trouble is reported in the returned outcome.
    """
    from tmupload.delivery.report import write_manifest

    settings.require_target()
    if settings.ticket_map is not None:
        from tmupload.ticket_map import load_ticket_map

        load_ticket_map(settings.ticket_map).apply(run)
    target = make_target(settings, transport=transport, progress=progress)
    outcome = UploadOutcome(run=run, settings=settings, dry_run=settings.dry_run)
    if settings.dry_run:
        try:
            outcome.delivery = target.plan(run)
        except TmUploadError as exc:
            outcome.error = exc
        return outcome
    try:
        entry = Outbox(settings.outbox).spool(run, settings)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the outbox {settings.outbox} ({exc.strerror or exc}); nothing was "
            "sent — point --tm-outbox (TMUPLOAD_OUTBOX) at a writable directory"
        ) from None
    outcome.outbox_entry = entry.path
    _deliver(target, entry, outcome)
    if settings.manifest is not None:
        outcome.manifest_path = write_manifest(outcome, settings.manifest)
    return outcome


def _deliver(target: Target, entry: OutboxEntry, outcome: UploadOutcome) -> None:
    try:
        with entry.locked():
            outcome.delivery = target.deliver(outcome.run, entry)
    except ServerError as exc:
        outcome.error = exc
    except TmUploadError as exc:
        outcome.error = exc
    if outcome.ok:
        entry.remove()
        outcome.outbox_entry = None
    else:
        message = str(outcome.error) if outcome.error else "some ticket links failed"
        entry.record_error(message)


def resend(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
) -> list[UploadOutcome]:
    """Finish every run waiting in the outbox, each from the step where it stopped."""
    from tmupload.delivery.report import write_manifest

    outcomes: list[UploadOutcome] = []
    for entry in Outbox(settings.outbox).entries():
        stored = entry.settings_data()
        merged = Settings.model_validate(
            {
                **settings.model_dump(),
                **{key: stored[key] for key in _STORED_PLACEMENT if stored.get(key) is not None},
            }
        )
        merged.require_target()
        run = entry.run()
        outcome = UploadOutcome(run=run, settings=merged, outbox_entry=entry.path)
        if progress:
            done = ", ".join(entry.steps_done()) or "nothing yet"
            progress(f"resending {entry.name} ({len(run.cases)} results; done: {done})")
        _deliver(make_target(merged, transport=transport, progress=progress), entry, outcome)
        if settings.manifest is not None:
            outcome.manifest_path = write_manifest(outcome, settings.manifest)
        outcomes.append(outcome)
    return outcomes
