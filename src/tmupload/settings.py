"""Resolve and validate settings, once, for every front end.

Precedence is implemented only in :func:`resolve`: flag > environment > ini/pyproject > default.
The names of every option live in ``options.py``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError, field_validator

from tmupload.errors import ConfigError
from tmupload.options import LINKABLE_OUTCOMES, OPTIONS, OPTIONS_BY_NAME, OptionSpec

__all__ = ["Settings", "resolve"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class Settings(BaseModel):
    """Resolved, validated settings shared by the plugin and the command line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upload: bool = False
    url: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    project: str | None = None
    script_package: str = "Automated Tests"
    automated_test: str = "pytest"
    execution_package: str = "Automated Runs"
    run_name: str | None = None
    dry_run: bool = False
    manifest: Path | None = None
    outbox: Path = Path(".tmupload/outbox")
    on_error: Literal["warn", "fail"] = "fail"
    no_link: bool = False
    link_on: tuple[str, ...] = ("failed", "error")
    link_concurrency: int = 8
    link_failures: str | None = None
    ticket_map: Path | None = None
    xfail_as: Literal["skipped", "passed"] = "skipped"
    max_output: int = 65536
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    proxy: str | None = None
    allow_insecure_http: bool = False
    timeout: float = 30.0
    deadline: float = 600.0

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if "@" in parts.netloc:
            # Never echo the value: it holds a password. Printed, spooled or written into a
            # manifest, the URL would leak it (DESIGN §4).
            raise ValueError(
                "the URL must not carry a login (user:password@): remove it and set "
                "TMUPLOAD_USER with TMUPLOAD_PASSWORD or --tm-password-file (see "
                "README#credentials)"
            )
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must not carry a query or fragment")
        return value.rstrip("/")

    @field_validator("link_on")
    @classmethod
    def _check_link_on(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [item for item in value if item not in LINKABLE_OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcome(s) {unknown}; choose from {LINKABLE_OUTCOMES}")
        return value

    @field_validator("link_concurrency", "max_output")
    @classmethod
    def _check_positive_int(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1")
        return value

    @field_validator("timeout", "deadline")
    @classmethod
    def _check_positive_float(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than 0")
        return value

    def require_target(self) -> None:
        """Raise ConfigError unless everything needed to reach the server is set."""
        missing = [
            OPTIONS_BY_NAME[name].names()
            for name in ("url", "project")
            if getattr(self, name) in (None, "")
        ]
        if missing:
            raise ConfigError(
                "upload needs " + " and ".join(missing) + " — see README#configuration"
            )
        if not self.user:
            raise ConfigError(
                "upload needs a login: set TMUPLOAD_USER (or --tm-user / ini tm_user) "
                "— see README#credentials"
            )
        if self.password is None:
            raise ConfigError(
                "upload needs a password: set the environment variable TMUPLOAD_PASSWORD "
                "or point --tm-password-file at a file holding it — see README#credentials"
            )
        for name in ("ca_bundle", "client_cert", "ticket_map"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ConfigError(
                    f"{OPTIONS_BY_NAME[name].names()} names {path}, which is not a file"
                )
        assert self.url is not None
        parts = urlsplit(self.url)
        if parts.scheme == "http" and not self.allow_insecure_http and not _is_loopback(parts):
            raise ConfigError(
                f"refusing to send credentials over plain http to {parts.hostname}: use an "
                "https:// URL, or --tm-allow-insecure-http if this network is trusted"
            )

    def safe_dump(self) -> dict[str, Any]:
        """The settings as JSON-able data without any secret, for the outbox and manifests."""
        data = self.model_dump(mode="json", exclude={"password"})
        return data


def _is_loopback(parts: Any) -> bool:
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _convert(spec: OptionSpec, raw: Any, source: str) -> Any:
    """Turn a raw flag/env/ini value into the type the setting has."""
    if raw is None:
        return None
    if spec.kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{source} must be true or false, not {raw!r} — {spec.names()}")
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
            raise ConfigError(f"{source} must be a number, not {raw!r} — {spec.names()}") from None
    if spec.kind == "choice":
        text = str(raw).strip()
        if text not in spec.choices:
            raise ConfigError(
                f"{source} must be one of {', '.join(spec.choices)}, not {raw!r} — {spec.names()}"
            )
        return text
    text = str(raw).strip()
    return text or None


def resolve(
    flags: Mapping[str, Any],
    ini: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    flag_style: Literal["pytest", "cli"] = "pytest",
) -> Settings:
    """Build Settings: flag > environment > ini/pyproject > default, then validate.

    ``flags`` and ``ini`` are keyed by option name; a value of None (or an empty ini string)
    means "not given".
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for spec in OPTIONS:
        flag_name = spec.flag if flag_style == "pytest" else spec.cli_flag
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
            values[spec.name] = _convert(spec, raw, source)
            break
    password = env.get("TMUPLOAD_PASSWORD")
    password_file = values.get("password_file")
    if password_file is not None:
        try:
            password = Path(password_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the password file {password_file}: {exc.strerror} — "
                f"{OPTIONS_BY_NAME['password_file'].names()}"
            ) from None
    if password:
        values["password"] = SecretStr(password)
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        found = OPTIONS_BY_NAME.get(name)
        where = found.names() if found else name
        raise ConfigError(f"invalid setting {where}: {first['msg']}") from None
