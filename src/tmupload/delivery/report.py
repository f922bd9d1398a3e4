"""What a person reads after an upload: the terminal summary lines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tmupload.delivery.manifest import write_manifest
from tmupload.delivery.outcome import UploadOutcome
from tmupload.hints import command_hint
from tmupload.settings import Settings

__all__ = [
    "command_hint",
    "counted",
    "deferred_lines",
    "resend_command",
    "summary_lines",
    "write_manifest",
]

# key, label for one, label for more (a count's label agrees with it: "1 error", "2 errors")
_TOTAL_LABELS = (
    ("passed", "passed", "passed"),
    ("failed", "failed", "failed"),
    ("errors", "error", "errors"),
    ("skipped", "skipped", "skipped"),
    ("not_run", "not run", "not run"),
)
_SHOWN_NOTES = 10
_LINK_LABELS = (
    ("linked", "linked", "linked"),
    ("already_linked", "already linked", "already linked"),
    ("noted", "in the notes only", "in the notes only"),
    ("unknown_ticket", "unknown ticket", "unknown tickets"),
    ("failed", "failed", "failed"),
)


def counted(count: int, one: str, more: str | None = None) -> str:
    """``1 result``, ``2 results``: a count with its noun in agreement (``more`` when the
    plural is not ``one`` + s)."""
    return f"{count} {one if count == 1 else (more or one + 's')}"


def _target(settings: Settings) -> str | None:
    """The target for a hint: the one chosen for this run, if it was chosen (flag or env)."""
    return settings.target if "target" in settings.given else None


def resend_command(outcome: UploadOutcome) -> str:
    settings = outcome.settings
    return command_hint("resend", settings.outbox.resolve(), _target(settings))


def summary_lines(outcome: UploadOutcome) -> list[tuple[str, str]]:
    """(colour, text) lines; colour is '' , 'green', 'yellow' or 'red'."""
    lines: list[tuple[str, str]] = []
    delivery = outcome.delivery
    if outcome.deferred:
        return deferred_lines(
            len(outcome.run.cases), outcome.outbox_entry, outcome.settings, outcome.notes
        )
    if outcome.dry_run:
        if outcome.error is not None:
            lines.append(("red", f"dry run failed: {outcome.error}"))
            return lines
        lines.append(("yellow", "dry run: nothing was created or sent"))
        for item in delivery.plan if delivery else []:
            lines.append(("", f"  {item}"))
        return lines
    if delivery is not None and delivery.run is not None:
        took = f" (upload took {outcome.seconds:.1f}s)" if outcome.seconds is not None else ""
        lines.append(
            (
                "green" if outcome.ok else "yellow",
                f"uploaded {counted(len(outcome.run.cases), 'result')} to {delivery.target}: "
                f"{delivery.run.url or delivery.run.api_url or delivery.run.id}{took}",
            )
        )
        if delivery.run.url is None and delivery.run.where:
            lines.append(("", f"in the web UI: {delivery.run.where}"))
        environment = outcome.run.environment
        if environment.get("build") or environment.get("build_url"):
            build = " ".join(filter(None, (environment.get("build"), environment.get("build_url"))))
            lines.append(("", f"build: {build}"))
        totals = delivery.totals
        if totals:
            parts = [
                counted(totals[key], one, more)
                for key, one, more in _TOTAL_LABELS
                if totals.get(key)
            ]
            # Only the server's own word for the run (ET's Passed/Failed): a target with none
            # (qTest: a cycle has no verdict) says nothing rather than something else's state.
            status = f" (run status {delivery.run.status})" if delivery.run.status else ""
            lines.append(("", f"server totals: {', '.join(parts) or 'no results'}{status}"))
        if delivery.unmapped:
            lines.append(
                (
                    "yellow",
                    f"{counted(len(delivery.unmapped), 'result')} "
                    f"{'has' if len(delivery.unmapped) == 1 else 'have'} no record on the "
                    f"server, e.g. {delivery.unmapped[0]}",
                )
            )
        lines.extend(_link_lines(outcome))
        lines.extend(_attachment_lines(outcome))
    for note in outcome.notes[:_SHOWN_NOTES]:
        lines.append(("yellow", note))
    if len(outcome.notes) > _SHOWN_NOTES:
        lines.append(("yellow", f"... and {len(outcome.notes) - _SHOWN_NOTES} more like these"))
    if outcome.error is not None:
        lines.append(("red", f"upload FAILED: {outcome.error}"))
    if outcome.outbox_entry is not None:
        lines.append(
            (
                "red" if outcome.error else "yellow",
                f"the results are kept in {outcome.outbox_entry}",
            )
        )
        lines.append(("", f"send them again with: {resend_command(outcome)}"))
    if outcome.manifest_path is not None:
        lines.append(("", f"manifest: {outcome.manifest_path}"))
    return lines


def _attachment_lines(outcome: UploadOutcome) -> list[tuple[str, str]]:
    delivery = outcome.delivery
    if delivery is None or not delivery.attachments:
        return []
    sent = [item for item in delivery.attachments if item.status == "sent"]
    failed = [item for item in delivery.attachments if item.status == "failed"]
    left = [item for item in delivery.attachments if item.status == "left_out"]
    size = sum(item.size for item in sent)
    text = f"attachments: {len(sent)} sent ({size:,} byte{'' if size == 1 else 's'})"
    text += f", {len(failed)} failed" if failed else ""
    text += f", {len(left)} refused by the server" if left else ""
    lines = [("red" if failed else ("yellow" if left else ""), text)]
    for item in [*failed, *left][:_SHOWN_NOTES]:
        what = "failed" if item.status == "failed" else "was refused"
        lines.append(("", f"  attachment {item.name} of {item.case_id} {what}: {item.reason}"))
    return lines


def _link_lines(outcome: UploadOutcome) -> list[tuple[str, str]]:
    links = outcome.delivery.links if outcome.delivery else []
    if not links:
        return []
    counts: Counter[str] = Counter(link.status for link in links)
    parts = [counted(counts[key], one, more) for key, one, more in _LINK_LABELS if counts.get(key)]
    colour = "red" if counts.get("failed") else ("yellow" if counts.get("unknown_ticket") else "")
    lines = [(colour, "ticket links: " + ", ".join(parts))]
    for link in links:
        if link.status in ("unknown_ticket", "failed"):
            what = "unknown ticket" if link.status == "unknown_ticket" else "link failed"
            reason = f": {link.reason}" if link.reason and link.status == "failed" else ""
            lines.append(("", f"  {what} {link.key} for {link.case_id}{reason}"))
    return lines


def deferred_lines(
    count: int, entry: Path | None, settings: Settings, notes: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The summary of a run spooled with --defer: where it is, its run key, how to send it."""
    key = settings.run_key
    flag = settings.flag("run_key")
    return [
        ("green", f"spooled {counted(count, 'result')} in {entry}, to be sent later"),
        (
            "",
            f"run key {key}: every run spooled with it goes as one run"
            if key
            else f"no run key: it goes as a run of its own ({flag} joins shards)",
        ),
        ("", f"send it with: {command_hint('send', settings.outbox.resolve(), _target(settings))}"),
        *[("yellow", note) for note in notes],
    ]
