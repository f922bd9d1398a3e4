"""``tmupload emulator --target T``: serve a server emulator on loopback (a testing aid).

Every target's emulator package exports ``EmulatorConfig`` (a dataclass) and
``run_forever(config, host, port, on_ready)``. ``--faults SPEC`` sets ``EmulatorConfig.faults``
(:func:`tmupload.emulation.parse_faults_spec`); ``--strict`` sets ``EmulatorConfig.strict``
where the emulator has one (qtest, zephyr: the strictest plausible answer where the server's
reference leaves a fact unconfirmed; et has no such field and says so).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
from typing import Any

from tmupload.cli.common import EXIT_OK
from tmupload.emulation import parse_faults_spec
from tmupload.errors import ConfigError, InputError
from tmupload.targets.registry import get_spec

__all__ = ["cmd_emulator"]


def cmd_emulator(args: argparse.Namespace) -> int:
    spec = get_spec(args.target)
    if spec.emulator is None:
        raise ConfigError(f"there is no emulator for {spec.title}")
    package = importlib.import_module(spec.emulator)
    config = _config(package.EmulatorConfig, args)

    def ready(url: str) -> None:
        print(f"{spec.title} emulator at {url}", flush=True)
        print(f"  page:  {url}/", flush=True)
        users = ", ".join(sorted(getattr(config, "users", {})))
        readonly = ", ".join(sorted(getattr(config, "readonly_users", {})))
        print(f"  users: {users} (read-only: {readonly or 'none'})", flush=True)
        tokens = getattr(config, "tokens", None)
        if tokens:
            print(f"  API tokens: {', '.join(sorted(tokens))}", flush=True)
        if args.strict:
            if getattr(config, "strict", False):
                print("  strict mode: on (switch with POST /_emulator/strict)", flush=True)
            else:
                print(
                    f"  strict mode: the {spec.title} emulator has no strict mode (nothing "
                    "unconfirmed to be strict about); --strict is ignored",
                    flush=True,
                )
        if args.faults:
            print(f"  faults: {args.faults} (change with POST /_emulator/faults)", flush=True)
        print("  press Ctrl-C to stop", flush=True)

    try:
        package.run_forever(config, args.host, args.port, ready)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc}); choose another "
            "--port, or 0 for a free one"
        ) from None
    return EXIT_OK


def _config(config_type: Any, args: argparse.Namespace) -> Any:
    fields = {field.name for field in dataclasses.fields(config_type)}
    values: dict[str, Any] = {}
    if "latency" in fields:
        values["latency"] = args.latency
    if "seed" in fields:
        values["seed"] = args.seed
    if args.strict and "strict" in fields:
        values["strict"] = True
    if args.faults is not None:
        try:
            faults = parse_faults_spec(args.faults)
        except ValueError as exc:
            raise InputError(f"--faults {args.faults!r}: {exc}") from None
        if "faults" not in fields:
            raise ConfigError(f"the {args.target} emulator does not inject faults")
        values["faults"] = faults
    if args.app_path is not None:
        if "app_path" not in fields:
            raise ConfigError(f"--app-path applies to the et emulator only, not {args.target}")
        values["app_path"] = args.app_path
    config = config_type(**values)
    if args.user:
        users = dict(config.users)
        for item in args.user:
            login, sep, password = item.partition(":")
            if not sep or not login:
                raise InputError(f"--user {item!r}: write it as LOGIN:PASSWORD")
            users[login] = password
        config.users = users
    return config
