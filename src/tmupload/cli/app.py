"""The ``tmupload`` command. ``main()`` is the only place that catches TmUploadError.

Exit codes: 0 done; 1 upload failed (results kept in the outbox); 2 usage, configuration or
bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tmupload._version import __version__
from tmupload.cli.common import EXIT_UPLOAD_FAILED, EXIT_USAGE, add_settings, command_spelling
from tmupload.errors import ConfigError, InputError, TmUploadError
from tmupload.options import did_you_mean, looks_secret
from tmupload.targets.registry import DEFAULT_TARGET, all_options, load_attribute, target_names

__all__ = ["main"]


class _HelpFormatter(argparse.HelpFormatter):
    """Every option's default in its help, as pytest's ``--help`` shows them: the settings
    say theirs (``add_settings``: their flags default to None, so that precedence works);
    any other option with a default worth showing gets ``(default: …)``."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "default" in text.lower()
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or (not action.option_strings and action.nargs not in ("?", "*"))
        ):
            return action.help
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """No abbreviations: ``--password`` must not silently mean ``--password-file``. Every
    command's ``--help`` shows the defaults; a near miss among choices gets a suggestion."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        choices = action.choices
        if choices is not None and value not in choices:
            names = [str(choice) for choice in choices]
            raise argparse.ArgumentError(
                action,
                f"invalid choice: {value!r}{did_you_mean(str(value), names)} (choose from "
                f"{', '.join(names)})",
            )
        super()._check_value(action, value)


def secret_on_command_line(argv: Sequence[str]) -> str | None:
    """The first option in ``argv`` that would carry a secret as its value, if any."""
    for token in argv:
        if token == "--":
            break
        if not token.startswith("--"):
            continue
        # Refused before parsing, without ever echoing what followed (options.looks_secret).
        if looks_secret(token):
            return token.split("=", 1)[0].lower()
    return None


# Settings each command uses (the rest would do nothing there, so --help does not offer them).
_SERVER = (
    "target",
    "url",
    "user",
    "password_file",
    "token_file",
    "project",
    "ca_bundle",
    "client_cert",
    "proxy",
    "allow_insecure_http",
    "timeout",
    "deadline",
)
# What sending a spooled run reads beyond the server's settings (resend, send).
_SENDING = ("manifest", "link_concurrency", "link_on", "no_link", "link_failures")

_Commands = argparse._SubParsersAction  # the type of ``add_subparsers()``'s result


def _server_settings(*more: str) -> tuple[str, ...]:
    """The settings that reach the server, every target's own, and ``more``."""
    return (*_SERVER, *(spec.name for spec in all_options() if spec.targets), *more)


def cmd_demo(args: argparse.Namespace) -> int:
    from tmupload.cli.demo import run_demo

    return run_demo(
        suite=Path(args.suite),
        workers=args.workers,
        keep_running=args.keep_running,
        target=args.target,
    )


def _imported_when_run(reference: str) -> Callable[[argparse.Namespace], int]:
    """The command ``reference`` ("module:function") names, imported only when it runs: every
    call builds the whole parser, and each command brings its own imports."""

    def run(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = load_attribute(reference)
        return command(args)

    return run


cmd_resend = _imported_when_run("tmupload.cli.resend:cmd_resend")
cmd_send = _imported_when_run("tmupload.cli.send:cmd_send")
cmd_check = _imported_when_run("tmupload.cli.check:cmd_check")
cmd_emulator = _imported_when_run("tmupload.cli.emulator:cmd_emulator")


def build_parser() -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = _Parser(
        prog="tmupload",
        description="Send test results to a test-management server (Enterprise Tester, qTest "
        "Manager, Zephyr Enterprise) and link failures to defect tickets.",
    )
    parser.add_argument("--version", action="version", version=f"tmupload {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_resend(commands)
    _add_send(commands)
    _add_check(commands)
    _add_emulator(commands)
    _add_demo(commands)

    from tmupload.cli.import_cmd import add_import_command

    add_import_command(commands, add_settings)

    from tmupload.cli.outbox_cmd import add_outbox_command

    add_outbox_command(commands)
    return parser


def _add_command(
    commands: _Commands[argparse.ArgumentParser],
    name: str,
    run: Callable[[argparse.Namespace], int],
    *,
    help: str,
    description: str,
    settings: tuple[str, ...] = (),
) -> argparse.ArgumentParser:
    """A command that ``run`` carries out, offering these ``settings`` first."""
    parser = commands.add_parser(name, help=help, description=description)
    if settings:
        add_settings(parser, only=settings)
    parser.set_defaults(func=run)
    return parser


def _add_resend(commands: _Commands[argparse.ArgumentParser]) -> None:
    resend = _add_command(
        commands,
        "resend",
        cmd_resend,
        help="finish uploads waiting in the outbox",
        description="Send again every run waiting in the outbox, each from the step where it "
        "stopped and to the target it was spooled for. A setting given here (flag or "
        "environment) overrides where the run goes; credentials always come from here.",
        settings=_server_settings("outbox", *_SENDING),
    )
    resend.add_argument(
        "entries",
        nargs="*",
        metavar="ENTRY",
        help="send only these outbox entries (their names, as `tmupload outbox` lists them, "
        "or a unique start of one); default: every entry (of --target's server when given)",
    )


def _add_send(commands: _Commands[argparse.ArgumentParser]) -> None:
    send = _add_command(
        commands,
        "send",
        cmd_send,
        help="send the outbox; CI shards that share a run key go as one run",
        description="Send every run waiting in the outbox (or in each --outbox: the folders "
        "CI shards spooled with --tm-defer, downloaded side by side). Runs spooled with the "
        "same run key, target and placement are joined into one run first: a node id found "
        "in two of them counts once, the later one. Like resend, a setting given here "
        "overrides where a run goes; credentials come from here.",
        settings=_server_settings(*_SENDING),
    )
    send.add_argument(
        "--outbox",
        action="append",
        dest="outboxes",
        metavar="DIR",
        help="an outbox folder to send (again for each folder); the joined runs are made in "
        "the first (default: the project's outbox, as for resend)",
    )


def _add_check(commands: _Commands[argparse.ArgumentParser]) -> None:
    _add_command(
        commands,
        "check",
        cmd_check,
        help="check the server, login, project and placement (read-only)",
        description="Check, read-only, everything an upload needs: configuration, the "
        "server, the login, the project and where results would go. Exit 0 when all is ok, "
        "1 when a check failed, 2 when the configuration is incomplete.",
        settings=_server_settings("no_link"),
    )


def _add_emulator(commands: _Commands[argparse.ArgumentParser]) -> None:
    emulator = _add_command(
        commands,
        "emulator",
        cmd_emulator,
        help="serve a server emulator on loopback (for trying tmupload out)",
        description="Serve an in-memory emulator of a test-management server on this machine, "
        "with a page showing what landed. A testing aid, not a server.",
    )
    _add_target_choice(emulator)
    emulator.add_argument("--host", default="127.0.0.1", help="address to listen on")
    emulator.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    emulator.add_argument(
        "--app-path",
        default=None,
        help="the application path the et emulator serves under (default /EnterpriseTester)",
    )
    emulator.add_argument("--user", action="append", metavar="LOGIN:PASSWORD", help="add a user")
    emulator.add_argument("--latency", type=float, default=0.0, help="seconds added to each answer")
    emulator.add_argument("--seed", type=int, default=0, help="seed for fault injection")
    emulator.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help="inject faults into API requests at these rates, e.g. 503:0.1,429:0.05,reset:0.02 "
        "(words: 503, 429, reset, slow, drop_after_apply; rates in [0, 1], summing to at most "
        "1; default: none)",
    )
    emulator.add_argument(
        "--strict",
        action="store_true",
        help="answer as strictly as the server's reference allows where it leaves a fact "
        "unconfirmed (qtest, zephyr; et has no strict mode; default: off)",
    )


def _add_demo(commands: _Commands[argparse.ArgumentParser]) -> None:
    demo = _add_command(
        commands,
        "demo",
        cmd_demo,
        help="emulator + example suite + upload, then show what landed",
        description="Start an emulator, run the example suite with the plugin against it, and "
        "print what the server holds afterwards.",
    )
    _add_target_choice(demo)
    demo.add_argument("--suite", default="examples/suite", help="the test suite to run")
    demo.add_argument(
        "-n", "--workers", type=int, default=0, help="run the suite with pytest-xdist"
    )
    demo.add_argument("--keep-running", action="store_true", help="keep the emulator up afterwards")


def _add_target_choice(parser: argparse.ArgumentParser) -> None:
    """``--target``, for the commands that start an emulator rather than send (no env)."""
    parser.add_argument(
        "--target", default=DEFAULT_TARGET, choices=target_names(), help="which server"
    )


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    secret = secret_on_command_line(arguments)
    if secret is not None:
        print(
            f"tmupload: error: {secret}: a secret is never a command-line value (it would be "
            "kept in shell history and CI logs); set TMUPLOAD_PASSWORD (or TMUPLOAD_TOKEN), "
            "or put it in a file and pass --password-file (or --token-file) — see "
            "README#credentials",
            file=sys.stderr,
        )
        return EXIT_USAGE
    parser = build_parser()
    args = parser.parse_args(arguments)
    try:
        result: int = args.func(args)
        return result
    except (ConfigError, InputError) as exc:
        print(f"tmupload: error: {command_spelling(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except TmUploadError as exc:
        print(f"tmupload: error: {command_spelling(str(exc))}", file=sys.stderr)
        return EXIT_UPLOAD_FAILED
    except KeyboardInterrupt:
        print(f"tmupload: interrupted{_where_runs_wait(args)}", file=sys.stderr)
        return 130


def _where_runs_wait(args: argparse.Namespace) -> str:
    """For the line after a Ctrl-C: a run spooled before it waits in the outbox."""
    if args.command not in ("import", "resend", "send"):
        return ""
    try:
        from tmupload.cli.common import settings_from_args

        outbox = settings_from_args(args).outbox.resolve()
    except Exception:  # the line must come out whatever the settings say
        return ""
    from tmupload.hints import command_hint

    return (
        f"; a run not fully sent stays in the outbox {outbox} — see it with "
        f"{command_hint('outbox', outbox)}, send it with {command_hint('resend', outbox)}"
    )
