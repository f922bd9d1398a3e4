"""``tmupload send``: send the outbox — CI shards that share a run key go as one run."""

from __future__ import annotations

import argparse
from pathlib import Path

from tmupload.cli.common import EXIT_OK, report_outcomes, say, settings_from_args

__all__ = ["cmd_send"]


def cmd_send(args: argparse.Namespace) -> int:
    from tmupload.delivery.pipeline import send

    settings = settings_from_args(args)
    outboxes = [Path(folder) for folder in (args.outboxes or ())]
    shown = ", ".join(str(p.resolve()) for p in outboxes) or str(settings.outbox.resolve())
    outcomes = send(settings, outboxes, progress=say)
    if not outcomes:
        print(f"tmupload: nothing to send in {shown}")
        return EXIT_OK
    return report_outcomes(outcomes, "sent")
