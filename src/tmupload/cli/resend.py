"""``tmupload resend``: finish the uploads waiting in the outbox."""

from __future__ import annotations

import argparse

from tmupload.cli.common import EXIT_OK, report_outcomes, say, settings_from_args

__all__ = ["cmd_resend"]


def cmd_resend(args: argparse.Namespace) -> int:
    from tmupload.delivery.pipeline import resend

    settings = settings_from_args(args)
    outbox = settings.outbox.resolve()
    names = list(getattr(args, "entries", None) or ())
    outcomes = resend(settings, progress=say, names=names)
    if not outcomes:
        which = f" for {settings.target}" if "target" in settings.given else ""
        print(f"tmupload: nothing to resend{which} in {outbox}")
        return EXIT_OK
    return report_outcomes(outcomes, "resent")
