"""Resolve and validate settings, once, for every front end.

Precedence is implemented only in :func:`resolve`: flag > environment > ini/pyproject > default.
The names of every option live in ``options.py``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from tmupload.errors import ConfigError
from tmupload.options import LINKABLE_OUTCOMES, OptionSpec, did_you_mean, parse_bool

if TYPE_CHECKING:
    from tmupload.targets.spec import TargetSpec

__all__ = ["DEFAULT_OUTBOX", "Settings", "resolve"]

#: Where runs wait until fully sent, below the project's root.
DEFAULT_OUTBOX = Path(".tmupload") / "outbox"
#: What each server's URL looks like (DESIGN §1), for the message a bad URL gets.
_URL_EXAMPLES = {
    "et": "https://et.example.com/EnterpriseTester",
    "qtest": "https://acme.qtestnet.com",
    "zephyr": "https://ze.example.com",
}


class Settings(BaseModel):
    """Resolved, validated settings shared by the plugin and the command line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upload: bool = False
    no_upload: bool = False
    target: str = "et"
    url: str | None = None
    user: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    token: SecretStr | None = None
    token_file: Path | None = None
    project: str | None = None
    run_name: str | None = None
    dry_run: bool = False
    defer: bool = False
    run_key: str | None = None
    build: str | None = None
    build_url: str | None = None
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
    attach: Literal["none", "output", "all"] = "output"
    max_attachment: int = 10_000_000
    max_attachments_total: int = 100_000_000
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    proxy: str | None = None
    allow_insecure_http: bool = False
    timeout: float = 30.0
    deadline: float = 600.0
    # The chosen target's own settings (its spec's options), by option name, defaults filled in.
    target_options: dict[str, Any] = Field(default_factory=dict)
    # Names of the settings given by flag or environment for this run: such a setting wins
    # over what an outbox entry froze (``resend``).
    given: frozenset[str] = frozenset()
    # How the front end spells its flags, for messages ("pytest": --tm-x, "cli": --x).
    flag_style: Literal["pytest", "cli"] = "pytest"

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        # What a URL of the chosen server looks like: every refusal below ends with it.
        example = _URL_EXAMPLES.get(str(info.data.get("target")), _URL_EXAMPLES["et"])
        fix = f"give the server's address, e.g. {example}"
        try:
            parts = urlsplit(value)
        except ValueError as exc:  # an unclosed IPv6 bracket
            # Not echoed when it may hold a login (user:password@, see below).
            shown = "the URL" if "@" in value else repr(value)
            raise ValueError(f"{shown} is not a URL ({exc}): {fix}") from None
        if "@" in parts.netloc:
            # Never echo the value: it holds a password. Printed, spooled or written into a
            # manifest, the URL would leak it (DESIGN §4).
            raise ValueError(
                "the URL must not carry a login (user:password@): remove it and set "
                "TMUPLOAD_USER with TMUPLOAD_PASSWORD or --tm-password-file (see "
                "README#credentials)"
            )
        if any(char.isspace() or not char.isprintable() for char in value):
            raise ValueError(f"{value!r} holds a space or a control character: {fix}")
        if parts.scheme not in ("http", "https"):
            said = f", not {parts.scheme}://" if parts.scheme and parts.netloc else ""
            raise ValueError(f"{value!r} must start with https:// (or http://){said}: {fix}")
        if not parts.hostname:
            raise ValueError(f"{value!r} names no host: {fix}")
        try:
            port = parts.port  # urllib checks 0-65535 only when asked
        except ValueError:
            port = -1
        if port is not None and not 1 <= port <= 65535:
            given = parts.netloc.rpartition(":")[2]
            raise ValueError(
                f"{value!r}: the port {given!r} is not a number from 1 to 65535 — fix it or "
                f"leave it out; {fix}"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"{value!r} must not carry a query or fragment: {fix}")
        return value.rstrip("/")

    @field_validator("link_on")
    @classmethod
    def _check_link_on(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [item for item in value if item not in LINKABLE_OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcome(s) {unknown}; choose from {LINKABLE_OUTCOMES}")
        return value

    @field_validator("link_concurrency", "max_output", "max_attachment", "max_attachments_total")
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

    def option(self, name: str) -> Any:
        """One of the chosen target's own settings."""
        return self.target_options[name]

    def names(self, name: str) -> str:
        """How the user sets ``name`` in this front end, for messages."""
        return _option(name).names(self.flag_style)

    def require_target(self) -> None:
        """Raise ConfigError unless everything needed to reach the server is set."""
        from tmupload.targets.registry import get_spec

        spec = get_spec(self.target)
        if self.defer:
            # Spooled only: no request, so no credentials; where it goes may be given to
            # ``tmupload send`` instead (which checks all of this then).
            if self.ticket_map is not None and not Path(self.ticket_map).is_file():
                raise ConfigError(
                    f"{self.names('ticket_map')} names {self.ticket_map}, which is not a file"
                )
            return
        needed = ("url", "project", *spec.required)
        missing = [
            name
            for name in needed
            if (getattr(self, name) if name in type(self).model_fields else self.option(name))
            in (None, "")
        ]
        if missing:
            raise ConfigError(
                "upload needs "
                + " and ".join(self.names(name) for name in missing)
                + f" ({spec.title}){self._offer(spec, missing)} — see README#configuration"
            )
        self._require_reachable(spec)

    def _offer(self, spec: TargetSpec, missing: list[str]) -> str:
        """What the server offers for the target's own missing settings (Zephyr: the
        project's releases), asked only when everything else needed to ask it is set; ''
        when it cannot tell (best effort: this is the text of an error)."""
        if spec.offer_missing is None or {"url", "project"} & set(missing):
            return ""
        try:
            self._require_reachable(spec)
        except ConfigError:
            return ""
        from tmupload.targets.registry import load_attribute

        offered: str = load_attribute(spec.offer_missing)(self, tuple(missing))
        return offered

    def _require_reachable(self, spec: TargetSpec) -> None:
        """The credentials, the files named and the URL's scheme allow a request."""
        self._require_credentials(spec.title, spec.credentials)
        for name in ("ca_bundle", "client_cert", "ticket_map"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"{self.names(name)} names {path}, which is not a file")
        assert self.url is not None
        parts = urlsplit(self.url)
        if parts.scheme == "http" and not self.allow_insecure_http and not _is_loopback(parts):
            raise ConfigError(
                f"refusing to send credentials over plain http to {parts.hostname}: use an "
                f"https:// URL, or {self.names('allow_insecure_http').split(' (')[0]} if this "
                "network is trusted"
            )

    def _require_credentials(self, title: str, kinds: tuple[str, ...]) -> None:
        # A token set for another server (an outbox holding several servers' runs) is not
        # this one's: with a login given as well, the login is used and the token never sent.
        has_login = bool(self.user) and self.password is not None
        if self.token is not None and "token" not in kinds and not has_login:
            raise ConfigError(
                f"{title} takes no API token (TMUPLOAD_TOKEN or {self.names('token_file')} is "
                "set): it logs in with TMUPLOAD_USER and TMUPLOAD_PASSWORD — unset the token "
                "for this run; see README#credentials"
            )
        if self.token is not None and "token" in kinds:
            return
        if "token" in kinds and not self.user and self.password is None:
            raise ConfigError(
                f"upload to {title} needs an API token (TMUPLOAD_TOKEN, or "
                f"{self.names('token_file')}) or a login (TMUPLOAD_USER with TMUPLOAD_PASSWORD) "
                "— see README#credentials"
            )
        if not self.user:
            raise ConfigError(
                "upload needs a login: set TMUPLOAD_USER (or "
                f"{self.names('user')}) — see README#credentials"
            )
        if self.password is None:
            raise ConfigError(
                "upload needs a password: set the environment variable TMUPLOAD_PASSWORD "
                f"or point {self.names('password_file').split(' (')[0]} at a file holding it "
                "— see README#credentials"
            )

    def safe_dump(self) -> dict[str, Any]:
        """The settings as JSON-able data without any secret, for the outbox and manifests."""
        data = self.model_dump(mode="json", exclude={"password", "token", "given"})
        return data


def _is_loopback(parts: Any) -> bool:
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _convert(spec: OptionSpec, raw: Any, source: str, style: str) -> Any:
    """Turn a raw flag/env/ini value into the type the setting has."""
    if raw is None:
        return None
    names = spec.names("cli" if style == "cli" else "pytest")
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


def _option(name: str) -> OptionSpec:
    from tmupload.targets.registry import all_options

    for spec in all_options():
        if spec.name == name:
            return spec
    raise KeyError(name)


def _read_secret(path: Path, what: str, option: OptionSpec, style: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} file {path}: {exc.strerror} — "
            f"{option.names('cli' if style == 'cli' else 'pytest')}"
        ) from None


def resolve(
    flags: Mapping[str, Any],
    ini: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    flag_style: Literal["pytest", "cli"] = "pytest",
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
    from tmupload.targets.registry import all_options, get_spec

    env = os.environ if env is None else env
    options = all_options()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for spec in options:
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
            values[spec.name] = _convert(spec, raw, source, flag_style)
            sources[spec.name] = source
            break
    if anchor is not None:
        outbox = values.get("outbox")
        if outbox is None:
            values["outbox"] = anchor / DEFAULT_OUTBOX
        elif not outbox.is_absolute() and sources["outbox"].startswith("ini key"):
            values["outbox"] = anchor / outbox
    if "outbox" in values:
        values["outbox"] = Path(values["outbox"]).absolute()
    target_name = values.get("target", "et")
    target = get_spec(target_name)
    target_options: dict[str, Any] = {}
    for spec in options:
        if not spec.targets:
            continue
        if target_name not in spec.targets:
            if spec.name in values:
                own = ", ".join(
                    (o.flag if flag_style == "pytest" else o.cli_flag) for o in target.options
                )
                raise ConfigError(
                    f"{sources[spec.name]} is not used by {target.title} (target "
                    f"{target_name}); its own settings are {own or 'none'} — remove it, or "
                    "choose the target it belongs to"
                )
            continue
        target_options[spec.name] = values.pop(spec.name, spec.default)
    # Given explicitly for this run: a flag or the environment (an ini file is shared and
    # standing, so it does not override what an outbox entry froze).
    given = frozenset(name for name, source in sources.items() if not source.startswith("ini key"))
    password = env.get("TMUPLOAD_PASSWORD")
    if values.get("password_file") is not None:
        password = _read_secret(
            values["password_file"], "password", _option("password_file"), flag_style
        )
    if password:
        values["password"] = SecretStr(password)
    token = env.get("TMUPLOAD_TOKEN")
    if values.get("token_file") is not None:
        token = _read_secret(values["token_file"], "token", _option("token_file"), flag_style)
    if token and token.strip():
        values["token"] = SecretStr(token.strip())
    try:
        return Settings(**values, target_options=target_options, given=given, flag_style=flag_style)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "?"
        try:
            where = _option(name).names(flag_style)
        except KeyError:
            where = name
        # pydantic prefixes a validator's own words with "Value error, ": not for a reader.
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting {where}: {message}") from None
