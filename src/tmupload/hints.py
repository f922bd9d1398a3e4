"""The ``tmupload`` command lines that messages suggest (light: the pytest process uses it).

A hint names the outbox folder it is about: run from another folder, a bare ``tmupload resend``
would look in that folder's project and find nothing. It names the target when one was chosen.
"""

from __future__ import annotations

import shlex
from pathlib import Path

__all__ = ["command_hint"]


def command_hint(command: str, outbox: Path, target: str | None = None, tail: str = "") -> str:
    """``tmupload COMMAND [TAIL] --outbox DIR [--target T]``, the folder shell-quoted;
    ``tail`` goes before the options (``outbox drop ENTRY``: argparse takes an optional
    positional only before them)."""
    line = f"tmupload {command}{f' {tail}' if tail else ''} --outbox {shlex.quote(str(outbox))}"
    return f"{line} --target {target}" if target else line
