"""The resolved, validated settings every part of a run reads, and what a run needs of them
before anything is sent (``require_target``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from tmupload.errors import ConfigError
from tmupload.options import LINKABLE_OUTCOMES
from tmupload.settings.url import check_url, is_loopback
from tmupload.targets.registry import DEFAULT_TARGET, get_option, get_spec, load_attribute
from tmupload.targets.spec import TargetSpec

__all__ = ["DEFAULT_OUTBOX", "Settings"]

#: Where runs wait until fully sent, below the project's root.
DEFAULT_OUTBOX = Path(".tmupload") / "outbox"


class Settings(BaseModel):
    """Resolved, validated settings shared by the plugin and the command line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    upload: bool = False
    no_upload: bool = False
    target: str = DEFAULT_TARGET
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
    outbox: Path = DEFAULT_OUTBOX
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
        return check_url(value, _url_example(str(info.data.get("target"))))

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
        """How the user sets ``name`` in this front end, for messages: the flag, the ini key
        (pytest) and the environment variable."""
        return get_option(name).names(self.flag_style)

    def flag(self, name: str) -> str:
        """The flag that sets ``name`` in this front end (``--tm-url`` or ``--url``)."""
        return get_option(name).flag_in(self.flag_style)

    def require_target(self) -> None:
        """Raise ConfigError unless everything needed to reach the server is set."""
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
        if parts.scheme == "http" and not self.allow_insecure_http and not is_loopback(parts):
            raise ConfigError(
                f"refusing to send credentials over plain http to {parts.hostname}: use an "
                f"https:// URL, or {self.flag('allow_insecure_http')} if this "
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
                f"or point {self.flag('password_file')} at a file holding it "
                "— see README#credentials"
            )

    def safe_dump(self) -> dict[str, Any]:
        """The settings as JSON-able data without any secret, for the outbox and manifests."""
        data = self.model_dump(mode="json", exclude={"password", "token", "given"})
        return data


def _url_example(target: str) -> str:
    """What a URL of ``target``'s server looks like (the default target's for an unknown)."""
    try:
        return get_spec(target).url_example
    except ConfigError:
        return get_spec(DEFAULT_TARGET).url_example
