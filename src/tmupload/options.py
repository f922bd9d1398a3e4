"""Every core setting's names, type, default and help, defined once (no heavy imports: the
pytest plugin reads this on every run). Each target declares its own settings in
``targets/<name>/spec.py``; ``targets.registry.all_options()`` is the whole table.

Each option exists as a pytest flag (``--tm-x-y``), an ini key (``tm_x_y``), an environment
variable (``TMUPLOAD_X_Y``) and, for the command line, ``--x-y``.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "LINKABLE_OUTCOMES",
    "OPTIONS",
    "OptionSpec",
    "did_you_mean",
    "looks_secret",
    "parse_bool",
]

Kind = Literal["str", "bool", "float", "int", "path", "choice", "list"]


@dataclass(frozen=True)
class OptionSpec:
    """One setting and the names it goes by in every front end."""

    name: str
    kind: Kind
    default: Any
    help: str
    choices: tuple[str, ...] = ()
    # Offered by the pytest plugin only (``upload``) or by every front end.
    cli: bool = True
    # The targets that use it (by name); empty for a core setting every target uses.
    targets: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        return "--tm-" + self.name.replace("_", "-")

    @property
    def cli_flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def flag_in(self, style: Literal["pytest", "cli"]) -> str:
        """The flag in the front end's own spelling: ``--tm-x-y`` for pytest, ``--x-y`` for
        the command."""
        return self.cli_flag if style == "cli" else self.flag

    @property
    def ini(self) -> str:
        return "tm_" + self.name

    @property
    def env(self) -> str:
        return "TMUPLOAD_" + self.name.upper()

    @property
    def shown_default(self) -> str | None:
        """The default as ``--help`` shows it (``failed,error``), or None when there is none
        worth showing (unset, off)."""
        if self.default in (None, False, ()):
            return None
        if isinstance(self.default, tuple):
            return ",".join(str(item) for item in self.default)
        return str(self.default)

    def help_with_default(self, extra: str = "") -> str:
        """The help text every front end shows: ``extra`` (``[ini …, env …]``) and then
        ``(default: …)`` when there is one."""
        text = f"{self.help}{f' {extra}' if extra else ''}"
        default = self.shown_default
        return f"{text} (default: {default})" if default is not None else text

    def argument(self, help_text: str) -> dict[str, Any]:
        """What pytest's ``addoption`` and argparse's ``add_argument`` take for its flag: a
        switch for a boolean, else a value. It defaults to None, so that a flag not given
        leaves the setting to the environment and the ini file."""
        if self.kind == "bool":
            return {"action": "store_true", "default": None, "dest": self.ini, "help": help_text}
        metavar = "|".join(self.choices) if self.choices else self.name.upper()
        return {"default": None, "dest": self.ini, "metavar": metavar, "help": help_text}

    def names(self, style: Literal["pytest", "cli"] = "pytest") -> str:
        """How a user can set it, for error messages (in the front end's own flag spelling)."""
        if style == "cli":
            return f"{self.flag_in(style)} (env {self.env})"
        return f"{self.flag_in(style)} (ini {self.ini}, env {self.env})"


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


def parse_bool(raw: object) -> bool | None:
    """True or False for the spellings every boolean setting accepts; None for anything else
    (``ture`` is a typo to report, never a silent False)."""
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def did_you_mean(given: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'qtest'?"`` for a near miss (``qtset``, ``QTest``), else ``""``."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(given.strip().lower(), list(by_lower), n=1, cutoff=0.6)
    return f"; did you mean {by_lower[close[0]]!r}?" if close else ""


#: Words and starts of an option name that would carry a secret as its value; a secret is
#: never a command-line value (shell history, CI logs, process lists), so such an option is
#: refused without echoing what followed it.
_SECRET_WORDS = ("password", "passwd", "token", "secret")
_SECRET_PREFIXES = ("pass", "pw", "tok")  # abbreviations a user may try


def looks_secret(name: str) -> bool:
    """Whether an option named ``name`` (``--password``, ``--tm-passw=…``; the front end's
    ``tm-`` and anything from ``=`` on are ignored) would carry a secret as its value.

    Any start of ``password`` or ``token`` of two letters or more counts (``--tm-pa``,
    ``--to``): argparse-style prefix matching would have made it one of those. A ``-file``
    option names a file holding the secret, which is the right way, so it never counts.
    """
    bare = name.split("=", 1)[0].lower().lstrip("-").removeprefix("tm-")
    if not bare or bare.endswith("-file"):
        return False
    if bare.startswith(_SECRET_PREFIXES) or any(word in bare for word in _SECRET_WORDS):
        return True
    return len(bare) >= 2 and any(word.startswith(bare) for word in ("password", "token"))


LINKABLE_OUTCOMES = ("failed", "error", "xfailed", "skipped")

OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec("upload", "bool", False, "send the results to the server", cli=False),
    OptionSpec(
        "no_upload",
        "bool",
        False,
        "do not upload in this run, whatever the ini file or TMUPLOAD_UPLOAD say",
        cli=False,
    ),
    # Its choices, default and help come from the one list of servers, the registry
    # (``targets.registry.all_options``); here it holds its place among the core settings.
    OptionSpec("target", "choice", None, "which server"),
    OptionSpec(
        "url",
        "str",
        None,
        "server base URL: Enterprise Tester with its application path "
        "(https://et.example.com/EnterpriseTester), the qTest site, or the Zephyr server",
    ),
    OptionSpec("user", "str", None, "login name (the password comes from TMUPLOAD_PASSWORD)"),
    OptionSpec("password_file", "path", None, "read the password from this file"),
    OptionSpec(
        "token_file",
        "path",
        None,
        "read the API token from this file (else TMUPLOAD_TOKEN; qTest and Zephyr only)",
    ),
    OptionSpec("project", "str", None, "project name (qTest and Zephyr: name or numeric id)"),
    OptionSpec("run_name", "str", None, "a name for the run (default: derived from the suite)"),
    OptionSpec("dry_run", "bool", False, "resolve everything read-only; print what would be sent"),
    OptionSpec(
        "defer",
        "bool",
        False,
        "spool the run to the outbox and send nothing (no credentials, no request); "
        "send it later with tmupload send",
    ),
    OptionSpec(
        "run_key",
        "str",
        None,
        "runs spooled with the same key (same target and placement) are sent as one run by "
        "tmupload send (default: the CI's id of the pipeline run)",
    ),
    OptionSpec("build", "str", None, "the build that made the run (default: the CI's number)"),
    OptionSpec("build_url", "str", None, "a link to that build (default: the CI job's URL)"),
    OptionSpec("manifest", "path", None, "write a JSON manifest of every result and link here"),
    OptionSpec("outbox", "path", Path(".tmupload/outbox"), "where runs wait until fully sent"),
    OptionSpec(
        "on_error",
        "choice",
        "fail",
        "exit status when the tests passed but the upload failed",
        choices=("warn", "fail"),
    ),
    OptionSpec("no_link", "bool", False, "upload results but link no tickets"),
    OptionSpec(
        "link_on",
        "list",
        ("failed", "error"),
        "outcomes whose tickets are linked (comma separated: " + ",".join(LINKABLE_OUTCOMES) + ")",
    ),
    OptionSpec("link_concurrency", "int", 8, "how many ticket links run at once"),
    OptionSpec("link_failures", "str", None, "link every failing result to this one ticket key"),
    OptionSpec("ticket_map", "path", None, "TOML file mapping node id globs to ticket keys"),
    OptionSpec(
        "xfail_as",
        "choice",
        "skipped",
        "how an expected failure is reported",
        choices=("skipped", "passed"),
    ),
    OptionSpec("max_output", "int", 65536, "characters kept per captured output or traceback"),
    OptionSpec(
        "attach",
        "choice",
        "output",
        "attach the captured output and full traceback as a text file: none, output (to failing "
        "results), all (to every result); files the tests attach with the tm_attach fixture "
        "always go",
        choices=("none", "output", "all"),
    ),
    OptionSpec("max_attachment", "int", 10_000_000, "bytes one attachment may have"),
    OptionSpec(
        "max_attachments_total", "int", 100_000_000, "bytes all attachments of a run may have"
    ),
    OptionSpec("ca_bundle", "path", None, "CA bundle file to verify the server's certificate"),
    OptionSpec(
        "client_cert", "path", None, "client certificate (PEM, with its key) for mutual TLS"
    ),
    OptionSpec("proxy", "str", None, "proxy URL (default: the standard *_PROXY variables)"),
    OptionSpec(
        "allow_insecure_http",
        "bool",
        False,
        "allow sending credentials over plain http to a non-loopback host",
    ),
    OptionSpec("timeout", "float", 30.0, "seconds to wait for one server answer"),
    OptionSpec("deadline", "float", 600.0, "seconds the whole upload may take"),
)
