"""Where each setting comes from: flag > environment > ini/pyproject > default, implemented
here only, for every front end; then the values become a validated :class:`Settings`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import SecretStr, ValidationError

from tmupload.errors import ConfigError
from tmupload.options import OptionSpec, did_you_mean, parse_bool
from tmupload.settings.model import DEFAULT_OUTBOX, Settings
from tmupload.targets.registry import DEFAULT_TARGET, all_options, get_option, get_spec
from tmupload.targets.spec import TargetSpec

__all__ = ["resolve"]

FlagStyle = Literal["pytest", "cli"]


def resolve(
    flags: Mapping[str, Any],
    ini: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    flag_style: FlagStyle = "pytest",
    anchor: Path | None = None,
) -> Settings:
    """Build Settings: flag > environment > ini/pyproject > default, then validate.

    ``anchor`` is the project's root (pytest's rootdir, or the folder of the ini file the
    command found): the default outbox lives there, and a relative outbox from the ini file
    is taken from there, so a run started from a subfolder spools where ``resend`` looks.

    ``flags`` and ``ini`` are keyed by option name; a value of None (or an empty ini string)
    means "not given". A target's own setting given while another target is chosen is an
    error that names the chosen target's settings.
    """
    env = os.environ if env is None else env
    options = all_options()
    values, sources = _given(options, flags, ini, env, flag_style)
    _anchor_outbox(values, sources, anchor)
    target = get_spec(values.get("target", DEFAULT_TARGET))
    target_options = _own_options(options, values, sources, target, flag_style)
    # Given explicitly for this run: a flag or the environment (an ini file is shared and
    # standing, so it does not override what an outbox entry froze).
    given = frozenset(name for name, source in sources.items() if not source.startswith("ini key"))
    values.update(_secrets(values, env, flag_style))
    try:
        return Settings(**values, target_options=target_options, given=given, flag_style=flag_style)
    except ValidationError as exc:
        raise _config_error(exc, flag_style) from None


def _given(
    options: tuple[OptionSpec, ...],
    flags: Mapping[str, Any],
    ini: Mapping[str, Any],
    env: Mapping[str, str],
    flag_style: FlagStyle,
) -> tuple[dict[str, Any], dict[str, str]]:
    """(option name -> value, option name -> where it came from) for every option given."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in options:
        flag_name = spec.flag_in(flag_style)
        candidates = (
            (flags.get(spec.name), flag_name),
            (env.get(spec.env), f"environment variable {spec.env}"),
            (ini.get(spec.name), f"ini key {spec.ini}"),
        )
        for raw, source in candidates:
            if raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            if spec.kind == "bool" and raw is False and source == flag_name:
                continue  # an absent store_true flag
            values[spec.name] = _convert(spec, raw, source, flag_style)
            sources[spec.name] = source
            break
    return values, sources


def _anchor_outbox(values: dict[str, Any], sources: Mapping[str, str], anchor: Path | None) -> None:
    """The outbox below the project's root unless given, or given relative in the ini file."""
    if anchor is not None:
        outbox = values.get("outbox")
        if outbox is None:
            values["outbox"] = anchor / DEFAULT_OUTBOX
        elif not outbox.is_absolute() and sources["outbox"].startswith("ini key"):
            values["outbox"] = anchor / outbox
    if "outbox" in values:
        values["outbox"] = Path(values["outbox"]).absolute()


def _own_options(
    options: tuple[OptionSpec, ...],
    values: dict[str, Any],
    sources: Mapping[str, str],
    target: TargetSpec,
    flag_style: FlagStyle,
) -> dict[str, Any]:
    """The chosen target's own settings, taken out of ``values``, defaults filled in; another
    target's setting given is an error."""
    own: dict[str, Any] = {}
    for spec in options:
        if not spec.targets:
            continue
        if target.name not in spec.targets:
            if spec.name in values:
                names = ", ".join(option.flag_in(flag_style) for option in target.options)
                raise ConfigError(
                    f"{sources[spec.name]} is not used by {target.title} (target "
                    f"{target.name}); its own settings are {names or 'none'} — remove it, or "
                    "choose the target it belongs to"
                )
            continue
        own[spec.name] = values.pop(spec.name, spec.default)
    return own


def _secrets(values: Mapping[str, Any], env: Mapping[str, str], style: FlagStyle) -> dict[str, Any]:
    """The password and the token: from their files when named, else from the environment."""
    found: dict[str, Any] = {}
    password = env.get("TMUPLOAD_PASSWORD")
    if values.get("password_file") is not None:
        password = _read_secret(values["password_file"], "password", "password_file", style)
    if password:
        found["password"] = SecretStr(password)
    token = env.get("TMUPLOAD_TOKEN")
    if values.get("token_file") is not None:
        token = _read_secret(values["token_file"], "token", "token_file", style)
    if token and token.strip():
        found["token"] = SecretStr(token.strip())
    return found


def _read_secret(path: Path, what: str, option: str, style: FlagStyle) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} file {path}: {exc.strerror} — "
            f"{get_option(option).names(style)}"
        ) from None


def _config_error(exc: ValidationError, flag_style: FlagStyle) -> ConfigError:
    """The first problem pydantic found, naming the setting as the user sets it."""
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "?"
    try:
        where = get_option(name).names(flag_style)
    except KeyError:
        where = name
    # pydantic prefixes a validator's own words with "Value error, ": not for a reader.
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(f"invalid setting {where}: {message}")


def _convert(spec: OptionSpec, raw: Any, source: str, style: FlagStyle) -> Any:
    """Turn a raw flag/env/ini value into the type the setting has."""
    if raw is None:
        return None
    names = spec.names(style)
    if spec.kind == "bool":
        value = parse_bool(raw)
        if value is None:
            raise ConfigError(f"{source} must be true or false, not {raw!r} — {names}")
        return value
    if spec.kind == "list":
        if isinstance(raw, (list, tuple)):
            return tuple(str(item).strip() for item in raw if str(item).strip())
        return tuple(item.strip() for item in str(raw).split(",") if item.strip())
    if spec.kind == "path":
        return Path(str(raw)).expanduser()
    if spec.kind in ("int", "float"):
        number_type = int if spec.kind == "int" else float
        try:
            return number_type(str(raw).strip())
        except ValueError:
            raise ConfigError(f"{source} must be a number, not {raw!r} — {names}") from None
    if spec.kind == "choice":
        text = str(raw).strip()
        if text not in spec.choices:
            raise ConfigError(
                f"{source} must be one of {', '.join(spec.choices)}, not {raw!r}"
                f"{did_you_mean(text, spec.choices)} — {names}"
            )
        return text
    text = str(raw).strip()
    return text or None
