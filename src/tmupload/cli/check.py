"""``tmupload check``: everything an upload needs, checked read-only, one line each."""

from __future__ import annotations

import argparse

from tmupload.cli.common import (
    EXIT_OK,
    EXIT_UPLOAD_FAILED,
    EXIT_USAGE,
    command_spelling,
    settings_from_args,
)
from tmupload.errors import ConfigError
from tmupload.targets.registry import get_spec, load_attribute

__all__ = ["cmd_check"]


def cmd_check(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    spec = get_spec(settings.target)
    try:
        settings.require_target()
    except ConfigError as exc:
        print(f"FAIL configuration: {command_spelling(str(exc))}")
        return EXIT_USAGE
    if spec.check is None:
        print(f"tmupload: no checks for {spec.title} yet")
        return EXIT_OK
    run_checks = load_attribute(spec.check)
    ok = True
    # A check yields True (ok), False (failed) or None (a note: something it cannot verify).
    for passed, line in run_checks(settings):
        ok = ok and passed is not False
        print(f"{_MARK[passed]} {command_spelling(line)}")
    return EXIT_OK if ok else EXIT_UPLOAD_FAILED


_MARK = {True: "ok  ", False: "FAIL", None: "note"}
