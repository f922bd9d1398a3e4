"""The pytest11 entry point: options, the ticket marker and wiring. Nothing else.

This module is imported on every pytest run in the environment, so it imports nothing heavy:
the collector (and with it pydantic, httpx and the target) is loaded only when upload is on.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

import pytest

from tmupload.errors import ConfigError, InputError
from tmupload.options import OptionSpec, looks_secret, parse_bool
from tmupload.pytest.attach import tm_attach
from tmupload.pytest.markers import MARKER_HELP, record_ticket_markers
from tmupload.targets.registry import all_options

if TYPE_CHECKING:
    from tmupload.settings import Settings

__all__ = ["tm_attach"]  # the fixture, offered to every test

_COLLECTOR = "tmupload-collector"
_OFF_FOR_ONE_RUN = "to run the tests without uploading, add --tm-no-upload"

# Secrets never come from the command line (shell history, CI logs): these flags exist only to
# refuse them with the fix, since argparse would echo the value of an unknown ``--x=value``.
_SECRET_FLAGS = {
    "--tm-password": "tm_password_on_command_line",
    "--tm-token": "tm_token_on_command_line",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tmupload", "upload results to a test-management server")
    for spec in all_options():
        only = f"; {'/'.join(spec.targets)} only" if spec.targets else ""
        help_text = spec.help_with_default(f"[ini {spec.ini}, env {spec.env}{only}]")
        group.addoption(spec.flag, **spec.argument(help_text))
        parser.addini(spec.ini, help_text, type="string", default="")
    for flag, dest in _SECRET_FLAGS.items():
        group.addoption(flag, dest=dest, default=None, help=argparse.SUPPRESS)


def _secret_refused(flag: str) -> pytest.UsageError:
    return pytest.UsageError(
        f"tmupload: {flag}: a secret is never a command-line value (it would be kept "
        "in shell history and CI logs); set TMUPLOAD_PASSWORD (or TMUPLOAD_TOKEN) in "
        "the environment, or use --tm-password-file (--tm-token-file) — see "
        "README#credentials"
    )


def _refuse_secret_flags(config: pytest.Config) -> None:
    for flag, dest in _SECRET_FLAGS.items():
        if config.getoption(dest, None) is not None:
            raise _secret_refused(flag)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(args: list[str]) -> None:
    """Refuse a secret-looking ``--tm-`` option that is not one of ours (``--tm-passw=…``,
    ``--tm-tok …``) before pytest's own parse, whose "unrecognized arguments" error would
    print the value. Here ``args`` already holds PYTEST_ADDOPTS and the ini's addopts."""
    known = {spec.flag for spec in all_options()}
    for arg in args:
        if arg == "--":
            break
        name = arg.split("=", 1)[0]
        if not name.startswith("--tm-") or name in known:
            continue
        if looks_secret(name):
            raise _secret_refused(name)
        bare = name.removeprefix("--tm-")
        if bare and any(word.startswith(bare) for word in ("password", "token")):
            # ``--tm-p``/``--tm-t``: too short to tell a secret from another option.
            meant = sorted(flag for flag in known if flag.startswith(name))
            raise pytest.UsageError(
                f"tmupload: {name} is not an option (options starting so: "
                f"{', '.join(meant)}); its value is not shown, as it may be a secret — a "
                "secret is never a command-line value: set TMUPLOAD_PASSWORD (or "
                "TMUPLOAD_TOKEN) in the environment, or use --tm-password-file "
                "(--tm-token-file) — see README#credentials"
            )


def _switch(config: pytest.Config, spec: OptionSpec) -> bool:
    """A boolean setting, flag > env > ini, validated as every boolean is (``ture`` is an
    error, not a silent False) — read here without the settings stack, which is heavy."""
    if config.getoption(spec.ini):
        return True
    for raw, source in (
        (os.environ.get(spec.env), f"environment variable {spec.env}"),
        (config.getini(spec.ini), f"ini key {spec.ini}"),
    ):
        if raw is None or not str(raw).strip():
            continue
        value = parse_bool(raw)
        if value is None:
            raise pytest.UsageError(
                f"tmupload: {source} must be true or false, not {raw!r} — {spec.names()}"
            )
        return value
    return False


def _upload_requested(config: pytest.Config) -> bool:
    options = {spec.name: spec for spec in all_options()}
    if _switch(config, options["no_upload"]):
        return False
    # A dry run is a question about an upload: it implies the intent.
    return _switch(config, options["upload"]) or _switch(config, options["dry_run"])


def settings_from_pytest(config: pytest.Config) -> Settings:
    """Resolve Settings from this session's flags, environment and ini (flag > env > ini)."""
    from tmupload.settings import resolve

    flags = {spec.name: config.getoption(spec.ini) for spec in all_options()}
    ini = {spec.name: config.getini(spec.ini) for spec in all_options()}
    # The outbox belongs to the project, not to the folder pytest was started from.
    anchor = config.inipath.parent if config.inipath is not None else config.rootpath
    return resolve(flags, ini, anchor=anchor)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    _refuse_secret_flags(config)
    config.stash[_UPLOADING] = uploading = _upload_requested(config)
    if not uploading:
        return
    if hasattr(config, "workerinput"):
        return  # xdist worker: its reports travel to the controller, which uploads once
    if config.option.collectonly:
        return
    from tmupload.pytest.collector import ResultCollector

    try:
        settings = settings_from_pytest(config)
        settings.require_target()
        collector = ResultCollector(config, settings)
    except (ConfigError, InputError) as exc:
        raise pytest.UsageError(f"tmupload: {exc} ({_OFF_FOR_ONE_RUN})") from None
    config.pluginmanager.register(collector, _COLLECTOR)


_UPLOADING = pytest.StashKey[bool]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Runs in every process (xdist workers included) whether or not upload is on: the keys
    # must ride on the reports to the controller and into --junitxml.
    uploading = config.stash.get(_UPLOADING, False)
    try:
        problems = record_ticket_markers(items, strict=uploading)
    except InputError as exc:
        raise pytest.UsageError(f"tmupload: {exc} ({_OFF_FOR_ONE_RUN})") from None
    for item, problem in problems:
        try:
            item.warn(pytest.PytestWarning(f"tmupload: {problem} (an upload would stop here)"))
        except Warning:  # warnings are errors here (-W error): one clear message, not a crash
            raise pytest.UsageError(f"tmupload: {problem}") from None
