"""The ``tmupload`` command. ``main()`` is the only place that catches TmUploadError.

Exit codes: 0 done; 1 upload failed (results kept in the outbox); 2 usage, configuration or
bad input.
"""

from __future__ import annotations

import argparse
import configparser
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tmupload._version import __version__
from tmupload.errors import ConfigError, InputError, TmUploadError
from tmupload.options import OPTIONS

__all__ = ["main"]

EXIT_OK = 0
EXIT_UPLOAD_FAILED = 1
EXIT_USAGE = 2


# A secret given as a command-line value lands in shell history, CI logs and process lists:
# these names are refused before parsing, without ever echoing what followed them.
_SECRET_WORDS = ("password", "passwd", "token", "secret")
_SECRET_PREFIXES = ("pass", "pw", "tok")  # abbreviations a user may try


class _Parser(argparse.ArgumentParser):
    """No abbreviations: ``--password`` must not silently mean ``--password-file``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)


def secret_on_command_line(argv: Sequence[str]) -> str | None:
    """The first option in ``argv`` that would carry a secret as its value, if any."""
    for token in argv:
        if token == "--":
            break
        if not token.startswith("--"):
            continue
        name = token.split("=", 1)[0].lower()
        if name.endswith("-file"):
            continue  # a path to a file holding the secret is the right way
        bare = name.removeprefix("--").removeprefix("tm-")
        if bare.startswith(_SECRET_PREFIXES) or any(word in bare for word in _SECRET_WORDS):
            return name
    return None


def _say(message: str) -> None:
    print(f"tmupload: {message}", file=sys.stderr, flush=True)


def _add_settings(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("server and placement (also TMUPLOAD_* variables, tm_* ini)")
    for spec in OPTIONS:
        if not spec.cli:
            continue
        help_text = f"{spec.help} [env {spec.env}]"
        if spec.kind == "bool":
            group.add_argument(
                spec.cli_flag, action="store_true", default=None, dest=spec.ini, help=help_text
            )
        else:
            metavar = "|".join(spec.choices) if spec.choices else spec.name.upper()
            group.add_argument(
                spec.cli_flag, default=None, dest=spec.ini, metavar=metavar, help=help_text
            )


def _ini_values(directory: Path) -> dict[str, Any]:
    """``tm_*`` keys from the pytest configuration in ``directory`` (pyproject, pytest.ini, ...)."""
    values: dict[str, Any] = {}
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read {pyproject}: {exc}") from None
        section = data.get("tool", {}).get("pytest", {}).get("ini_options", {})
        values.update({k[3:]: v for k, v in section.items() if k.startswith("tm_")})
    for name, section_name in (
        ("pytest.ini", "pytest"),
        ("tox.ini", "pytest"),
        ("setup.cfg", "tool:pytest"),
    ):
        path = directory / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from None
        if parser.has_section(section_name):
            for key, value in parser.items(section_name):
                if key.startswith("tm_"):
                    values.setdefault(key[3:], value)
    return values


def _settings(args: argparse.Namespace, **overrides: Any) -> Any:
    from tmupload.settings import resolve

    flags = {spec.name: getattr(args, spec.ini, None) for spec in OPTIONS}
    flags.update(overrides)
    return resolve(flags, _ini_values(Path.cwd()), flag_style="cli")


def _print_outcome(outcome: Any) -> None:
    from tmupload.delivery.report import summary_lines

    for _colour, text in summary_lines(outcome):
        print(f"tmupload: {text}")


def cmd_resend(args: argparse.Namespace) -> int:
    from tmupload.delivery.outbox import Outbox
    from tmupload.delivery.pipeline import resend

    settings = _settings(args)
    if not Outbox(settings.outbox).entries():
        print(f"tmupload: nothing to resend in {settings.outbox}")
        return EXIT_OK
    outcomes = resend(settings, progress=_say)
    for outcome in outcomes:
        _print_outcome(outcome)
    failed = [outcome for outcome in outcomes if not outcome.ok]
    print(f"tmupload: resent {len(outcomes) - len(failed)} of {len(outcomes)} run(s)")
    return EXIT_UPLOAD_FAILED if failed else EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from tmupload.targets.et.check import run_checks

    settings = _settings(args)
    ok = True
    for passed, line in run_checks(settings):
        ok = ok and passed
        print(f"{'ok  ' if passed else 'FAIL'} {line}")
    return EXIT_OK if ok else EXIT_UPLOAD_FAILED


def cmd_emulator(args: argparse.Namespace) -> int:
    from tmupload.targets.et.emulator import EmulatorConfig
    from tmupload.targets.et.emulator.server import run_forever

    config = EmulatorConfig(app_path=args.app_path, latency=args.latency, seed=args.seed)
    if args.user:
        users = dict(config.users)
        for item in args.user:
            login, sep, password = item.partition(":")
            if not sep or not login:
                raise InputError(f"--user {item!r}: write it as LOGIN:PASSWORD")
            users[login] = password
        config.users = users

    def ready(url: str) -> None:
        print(f"Enterprise Tester emulator at {url}", flush=True)
        print(f"  page:  {url}/", flush=True)
        logins = ", ".join(sorted(config.users))
        print(
            f"  users: {logins} (read-only: {', '.join(sorted(config.readonly_users))})", flush=True
        )
        print("  press Ctrl-C to stop", flush=True)

    run_forever(config, args.host, args.port, ready)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from tmupload.cli.demo import run_demo

    return run_demo(suite=Path(args.suite), workers=args.workers, keep_running=args.keep_running)


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="tmupload",
        description="Send test results to Enterprise Tester and link failures to tickets.",
    )
    parser.add_argument("--version", action="version", version=f"tmupload {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    resend = commands.add_parser("resend", help="finish uploads waiting in the outbox")
    _add_settings(resend)
    resend.set_defaults(func=cmd_resend)

    check = commands.add_parser("check", help="check the server, login, project and placement")
    _add_settings(check)
    check.set_defaults(func=cmd_check)

    emulator = commands.add_parser(
        "emulator", help="serve an Enterprise Tester emulator on loopback"
    )
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    emulator.add_argument("--app-path", default="/EnterpriseTester")
    emulator.add_argument("--user", action="append", metavar="LOGIN:PASSWORD", help="add a user")
    emulator.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    emulator.add_argument("--seed", type=int, default=0, help="seed for fault injection")
    emulator.set_defaults(func=cmd_emulator)

    demo = commands.add_parser(
        "demo", help="emulator + example suite + upload, then show what landed"
    )
    demo.add_argument("--suite", default="examples/suite", help="the test suite to run")
    demo.add_argument(
        "-n", "--workers", type=int, default=0, help="run the suite with pytest-xdist"
    )
    demo.add_argument("--keep-running", action="store_true", help="keep the emulator up afterwards")
    demo.set_defaults(func=cmd_demo)

    from tmupload.cli.import_cmd import add_import_command

    add_import_command(commands, _add_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    secret = secret_on_command_line(arguments)
    if secret is not None:
        print(
            f"tmupload: error: {secret}: a secret is never a command-line value (it would be "
            "kept in shell history and CI logs); set TMUPLOAD_PASSWORD, or put it in a file "
            "and pass --password-file — see README#credentials",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(arguments)
    try:
        result: int = args.func(args)
        return result
    except (ConfigError, InputError) as exc:
        print(f"tmupload: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TmUploadError as exc:
        print(f"tmupload: error: {exc}", file=sys.stderr)
        return EXIT_UPLOAD_FAILED
    except KeyboardInterrupt:
        print("tmupload: interrupted", file=sys.stderr)
        return 130
