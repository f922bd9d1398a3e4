"""What every ``tmupload`` command shares: settings from flags, environment and ini files,
exit codes, and printing an outcome."""

from __future__ import annotations

import argparse
import configparser
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tmupload.errors import ConfigError
from tmupload.settings import Settings
from tmupload.targets.registry import all_options

__all__ = [
    "EXIT_OK",
    "EXIT_UPLOAD_FAILED",
    "EXIT_USAGE",
    "add_settings",
    "command_spelling",
    "find_config",
    "print_outcome",
    "say",
    "settings_from_args",
]

EXIT_OK = 0
EXIT_UPLOAD_FAILED = 1
EXIT_USAGE = 2


_PYTEST_FLAG = re.compile(r"--tm-[a-z][a-z0-9-]*")


def command_spelling(text: str) -> str:
    """``text`` with pytest's flags (``--tm-url``) spelled as the commands take them (``--url``).

    Messages are built with the front end's spelling where the settings are at hand
    (``Settings.names``); this catches the rest a command prints: a hint written once for
    both front ends, a helper without the settings, an error a pytest run recorded in the
    outbox. Only flags the commands have change; pytest's own (``--tm-upload``) stay."""
    commands = {spec.flag: spec.cli_flag for spec in all_options() if spec.cli}
    return _PYTEST_FLAG.sub(lambda found: commands.get(found.group(0), found.group(0)), text)


def say(message: str) -> None:
    print(f"tmupload: {command_spelling(message)}", file=sys.stderr, flush=True)


def add_settings(parser: argparse.ArgumentParser, *, only: tuple[str, ...] | None = None) -> None:
    """Add the settings as ``--x-y`` flags (``only``: just these, for commands that use few)."""
    group = parser.add_argument_group("settings (also TMUPLOAD_* variables and tm_* ini keys)")
    for spec in all_options():
        if not spec.cli or (only is not None and spec.name not in only):
            continue
        targets = f"; {'/'.join(spec.targets)} only" if spec.targets else ""
        # The flags default to None (a value given wins over env and ini): the help says the
        # setting's own default, as pytest's --help does.
        help_text = spec.help_with_default(f"[env {spec.env}{targets}]")
        group.add_argument(spec.cli_flag, **spec.argument(help_text))


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    section = data.get("tool", {}).get("pytest", {}).get("ini_options")
    return section if isinstance(section, dict) else None


def _ini_section(path: Path, name: str) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return dict(parser.items(name)) if parser.has_section(name) else None


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The pytest configuration pytest itself would use from ``start``: the first of
    pytest.ini, .pytest.ini, pyproject.toml ([tool.pytest.ini_options]), tox.ini ([pytest])
    and setup.cfg ([tool:pytest]) in ``start`` or the nearest folder above it that has one.
    Returns (the file, its ``tm_*`` keys without the prefix)."""
    for folder in (start, *start.parents):
        for name, section_name in (
            ("pytest.ini", "pytest"),
            (".pytest.ini", "pytest"),
            ("pyproject.toml", None),
            ("tox.ini", "pytest"),
            ("setup.cfg", "tool:pytest"),
        ):
            path = folder / name
            if not path.is_file():
                continue
            if section_name is None:
                section = _pyproject_section(path)
            else:
                section = _ini_section(path, section_name)
                if section is None and name.endswith("pytest.ini"):
                    section = {}  # a pytest.ini counts even when empty, as in pytest
            if section is not None:
                return path, {k[3:]: v for k, v in section.items() if k.startswith("tm_")}
    return None


def settings_from_args(args: argparse.Namespace, **overrides: Any) -> Settings:
    from tmupload.settings import resolve

    flags = {spec.name: getattr(args, spec.ini, None) for spec in all_options()}
    flags.update(overrides)
    cwd = Path.cwd()
    found = find_config(cwd)
    # The project's root, as pytest finds it: the outbox is anchored there for both.
    anchor, ini = (found[0].parent, found[1]) if found else (cwd, {})
    return resolve(flags, ini, flag_style="cli", anchor=anchor)


def print_outcome(outcome: Any) -> None:
    from tmupload.delivery.report import summary_lines

    for _colour, text in summary_lines(outcome):
        print(f"tmupload: {command_spelling(text)}")


def report_outcomes(outcomes: Sequence[Any], verb: str) -> int:
    """Each outcome's summary, then one line of counts; the exit status (resend, send)."""
    for outcome in outcomes:
        print_outcome(outcome)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    print(f"tmupload: {verb} {len(outcomes) - len(failed)} of {len(outcomes)} run(s)")
    return EXIT_UPLOAD_FAILED if failed else EXIT_OK
