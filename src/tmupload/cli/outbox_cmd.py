"""``tmupload outbox``: what waits to be sent, and ``tmupload outbox drop ENTRY`` to give up one.

An entry that can never leave (a server that no longer exists) would otherwise be retried by
every ``resend``; dropping it is a decision a person makes, so it names what is lost.
"""

from __future__ import annotations

import argparse
import shutil

from tmupload.cli.common import EXIT_OK, EXIT_USAGE, command_spelling, settings_from_args
from tmupload.delivery.outbox import Outbox, OutboxEntry
from tmupload.delivery.report import counted
from tmupload.errors import InputError
from tmupload.hints import command_hint

__all__ = ["add_outbox_command"]


def add_outbox_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    parser = commands.add_parser(
        "outbox",
        help="list the runs waiting in the outbox, or drop one",
        description="List the runs waiting to be sent (target, where they go, steps done, the "
        "last error, age). 'tmupload outbox drop ENTRY' deletes one for good.",
    )
    parser.add_argument(
        "action", nargs="?", choices=("list", "drop"), default="list", help="default: list"
    )
    parser.add_argument("entry", nargs="?", help="the entry to drop (its name or a prefix)")
    parser.add_argument(
        "--outbox",
        dest="tm_outbox",
        metavar="OUTBOX",
        help="the outbox folder (default: .tmupload/outbox at the project's root) [env "
        "TMUPLOAD_OUTBOX]",
    )
    parser.set_defaults(func=cmd_outbox)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def _describe(entry: OutboxEntry) -> list[str]:
    frozen = entry.frozen()
    where = ", ".join(
        f"{key}={value}"
        for key, value in frozen.items()
        if key not in ("url", "project", "link_on", "no_link", "link_failures") and value
    )
    lines = [
        f"{entry.name}  ({counted(len(entry.run().cases), 'result')}, spooled "
        f"{_age(entry.age())} ago)",
        f"  target {entry.target}: {frozen.get('url')} project {frozen.get('project')!r}"
        + (f" ({where})" if where else ""),
        f"  done: {', '.join(entry.journal.summary()) or 'nothing yet'}",
    ]
    error = entry.last_error()
    if error:
        first = error.strip().splitlines()[0] if error.strip() else ""
        # Recorded by whichever front end sent it: spelled here as the commands take it.
        lines.append(f"  last error: {command_spelling(first[:300])}")
    return lines


def cmd_outbox(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    outbox = Outbox(settings.outbox.resolve())
    entries = outbox.entries()
    if args.action == "list":
        if args.entry:
            raise InputError("'tmupload outbox list' takes no entry; did you mean 'drop'?")
        if not entries:
            print(f"tmupload: the outbox {outbox.root} is empty")
            return EXIT_OK
        print(f"tmupload: {counted(len(entries), 'run')} waiting in {outbox.root}:")
        for entry in entries:
            for line in _describe(entry):
                print(line)
        print(
            f"send them with: {command_hint('resend', outbox.root)}; give one up with: "
            f"{command_hint('outbox drop', outbox.root, tail='ENTRY')}"
        )
        return EXIT_OK
    if not args.entry:
        raise InputError(
            "tmupload outbox drop needs the entry's name (see "
            f"'{command_hint('outbox', outbox.root)}')"
        )
    found = outbox.find(args.entry)
    if found is None:
        names = ", ".join(e.name for e in entries) or "none"
        print(
            f"tmupload: error: no single entry in {outbox.root} matches {args.entry!r} "
            f"(entries: {names})"
        )
        return EXIT_USAGE
    count = len(found.run().cases)
    shutil.rmtree(found.path)
    print(f"tmupload: dropped {found.name} ({counted(count, 'result')} will not be sent)")
    return EXIT_OK
