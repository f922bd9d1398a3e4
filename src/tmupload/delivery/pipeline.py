"""One function sends a run, whichever front end built it: spool, deliver, report.

``upload()`` is what the pytest plugin calls at the end of a session and what ``tmupload
import`` calls after reading files; ``resend()`` finishes what an earlier upload left in the
outbox, each entry with the target it was spooled for.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from tmupload.delivery.outbox import Outbox, OutboxEntry
from tmupload.delivery.outcome import UploadOutcome
from tmupload.delivery.report import write_manifest
from tmupload.errors import ConfigError, TmUploadError
from tmupload.hints import command_hint
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Progress, Target, quiet
from tmupload.targets.registry import get_spec, make_target

__all__ = [
    "UploadOutcome",
    "deliver_spooled",
    "make_target",
    "resend",
    "select_entries",
    "send",
    "settings_for_entry",
    "upload",
]

log = logging.getLogger("tmupload")


def upload(
    run: RunReport,
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    target: Target | None = None,
    clean_up_in_background: bool = False,
) -> UploadOutcome:
    """Send ``run`` as ``settings`` say (with ``target`` when one was built, and perhaps
    prepared, while the tests ran). ``clean_up_in_background``: a delivered entry's files are
    deleted by a thread the process waits for at exit (the pytest session's summary goes on
    meanwhile).

    Raises ConfigError or InputError (e.g. a bad ticket map) before anything is written or
    sent; server trouble is reported in the returned outcome.
    """
    settings.require_target()
    if settings.ticket_map is not None:
        from tmupload.ticket_map import load_ticket_map

        load_ticket_map(settings.ticket_map).apply(run)
    if target is None:
        target = make_target(settings, transport=transport, progress=progress)
    outcome = UploadOutcome(run=run, settings=settings, dry_run=settings.dry_run)
    if settings.dry_run:
        try:
            outcome.delivery = target.plan(run)
        except TmUploadError as exc:
            outcome.error = exc
        return outcome
    outbox = settings.outbox.resolve()
    try:
        entry = Outbox(outbox).spool(run, settings)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the outbox {outbox} ({exc.strerror or exc}); nothing was sent — "
            f"point {settings.flag('outbox')} (TMUPLOAD_OUTBOX) at a writable "
            "directory"
        ) from None
    outcome.outbox_entry = entry.path
    outcome.notes.extend(entry.notes)
    if settings.defer:
        outcome.deferred = True  # spooled: tmupload send delivers it
        return outcome
    # Spooling recorded the attachments on the run itself, with their paths in the entry: the
    # target sends those copies (reading the entry back would only build the run again).
    _deliver(target, entry, outcome, clean_up_in_background)
    if settings.manifest is not None:
        outcome.manifest_path = write_manifest(outcome, settings.manifest)
    return outcome


def deliver_spooled(
    run: RunReport, settings: Settings, entry: OutboxEntry, target: Target
) -> UploadOutcome:
    """Deliver ``run``, already complete in the outbox ``entry`` whose lock the caller holds
    (the courier: it followed the entry while pytest wrote it)."""
    if settings.ticket_map is not None:
        from tmupload.ticket_map import load_ticket_map

        load_ticket_map(settings.ticket_map).apply(run)
    outcome = UploadOutcome(
        run=run, settings=settings, dry_run=settings.dry_run, outbox_entry=entry.path
    )
    if settings.dry_run:
        try:
            outcome.delivery = target.plan(run)
        except TmUploadError as exc:
            outcome.error = exc
        entry.remove()  # a dry run keeps nothing
        return outcome
    _deliver(target, entry, outcome, locked=True)
    if settings.manifest is not None:
        outcome.manifest_path = write_manifest(outcome, settings.manifest)
    return outcome


def _deliver(
    target: Target,
    entry: OutboxEntry,
    outcome: UploadOutcome,
    in_background: bool = False,
    *,
    locked: bool = False,
) -> None:
    """``locked``: the caller holds the entry's lock already."""
    started = time.monotonic()
    try:
        with contextlib.nullcontext() if locked else entry.locked():
            outcome.delivery = target.deliver(outcome.run, entry.journal)
    except TmUploadError as exc:
        outcome.error = exc
    outcome.seconds = time.monotonic() - started
    if outcome.ok:
        entry.remove(in_background=in_background)
        outcome.outbox_entry = None
    else:
        message = str(outcome.error) if outcome.error else "some ticket links failed"
        entry.record_error(message)


def settings_for_entry(
    current: Settings, entry: OutboxEntry, *, fits: bool | None = None
) -> tuple[Settings, list[str]]:
    """The settings to resend ``entry`` with, and the frozen settings the user overrode.

    Where the run goes was frozen when it was spooled; a setting given now by flag or
    environment overrides it (an entry spooled with a wrong URL or project can then leave),
    but only where it fits: an entry of the chosen target (``fits``: whether the settings
    given now are meant for this entry; by default, whether the targets are the same). A URL
    given for one server never sends another server's run there. Credentials, TLS and time
    limits always come from the current settings.
    """
    spec = get_spec(entry.target)
    frozen = entry.frozen()
    same_target = current.target == entry.target if fits is None else fits
    data: dict[str, Any] = current.model_dump()
    options: dict[str, Any] = {option.name: option.default for option in spec.options}
    if same_target:
        options.update({k: v for k, v in current.target_options.items() if k in options})
    overridden: list[str] = []
    for key, value in frozen.items():
        is_option = key in options
        now = options[key] if is_option else data.get(key)
        if key in current.given and same_target:
            if _as_json(now) != _as_json(value):
                overridden.append(key)
            continue
        if is_option:
            options[key] = value
        else:
            data[key] = value
    data["target"] = entry.target
    data["target_options"] = options
    return Settings.model_validate(data), overridden


def select_entries(settings: Settings, names: Sequence[str] = ()) -> tuple[list[OutboxEntry], bool]:
    """The outbox entries a resend sends, and whether the settings given now fit them all.

    ``names``: entries named by the user (a unique prefix of the name will do); otherwise
    every entry. ``--target`` given now keeps the entries of that target only. Without it,
    settings that say where a run goes fit only an outbox of one server's runs: given for a
    mixed one they would send a run to the wrong server, so that is an error naming the fix.
    """
    outbox = settings.outbox.resolve()
    entries = Outbox(outbox).entries()
    if names:
        entries = [_named(entries, name, outbox) for name in dict.fromkeys(names)]
    if "target" in settings.given:
        return [e for e in entries if e.target == settings.target], True
    targets = sorted({entry.target for entry in entries})
    if len(targets) < 2:
        return entries, True
    placement = {"url", "project", "run_name"}
    for target in targets:
        placement.update(get_spec(target).frozen)
    given = sorted(placement & settings.given)
    if given:
        shown = ", ".join(settings.flag(name) for name in given)
        raise ConfigError(
            f"{outbox} holds runs for {', '.join(targets)}: {shown} would reach all of them — "
            f"choose one server with {settings.flag('target')}, or name the "
            f"entries ({command_hint('outbox', outbox)} lists them)"
        )
    return entries, False


def send(
    settings: Settings,
    outboxes: Sequence[Path] = (),
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
) -> list[UploadOutcome]:
    """Send every entry of ``outboxes`` (default: the settings' outbox); entries spooled with
    one run key (and target and placement) are joined into one run first (merge.py), in the
    first outbox."""
    from tmupload.delivery.merge import join_shards

    say = progress or quiet
    roots = [Path(root).resolve() for root in outboxes] or [settings.outbox.resolve()]
    join_shards(roots, roots[0], say)
    outcomes: list[UploadOutcome] = []
    for root in dict.fromkeys(roots):
        here = settings.model_copy(update={"outbox": root})
        outcomes.extend(resend(here, transport=transport, progress=progress))
    return outcomes


def _named(entries: list[OutboxEntry], name: str, outbox: Any) -> OutboxEntry:
    exact = [entry for entry in entries if entry.name == name]
    found = exact or [entry for entry in entries if entry.name.startswith(name)]
    if len(found) == 1:
        return found[0]
    listed = ", ".join(entry.name for entry in entries[:10]) or "none"
    why = "matches several entries" if found else "is no entry"
    raise ConfigError(f"{name!r} {why} of the outbox {outbox} (its entries: {listed})")


def _listed(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} and {words[-1]}"


def _as_json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def resend(
    settings: Settings,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    names: Sequence[str] = (),
) -> list[UploadOutcome]:
    """Finish the runs waiting in the outbox (those ``names`` names, or all of them; only
    the chosen target's when ``--target`` was given), each from the step where it stopped."""
    say = progress or quiet
    outcomes: list[UploadOutcome] = []
    entries, fits = select_entries(settings, names)
    for entry in entries:
        merged, overridden = settings_for_entry(settings, entry, fits=fits)
        merged.require_target()
        run = entry.run()
        outcome = UploadOutcome(run=run, settings=merged, outbox_entry=entry.path)
        if overridden:
            # Cached server ids (project, containers, the run) belong to the old placement.
            flags = [merged.flag(name) for name in overridden]
            one = len(flags) == 1
            say(
                f"{entry.name}: {_listed(flags)} given now "
                f"{'differs' if one else 'differ'} from the spooled "
                f"{'setting' if one else 'settings'}; its delivery starts over there"
            )
            entry.journal.reset()
        done = ", ".join(entry.journal.summary()) or "nothing yet"
        say(f"resending {entry.name} ({len(run.cases)} results; done: {done})")
        target = make_target(merged, transport=transport, progress=progress)
        _deliver(target, entry, outcome)
        if settings.manifest is not None:
            outcome.manifest_path = write_manifest(outcome, settings.manifest)
        outcomes.append(outcome)
    return outcomes
