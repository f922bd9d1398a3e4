"""What a target declares about itself, in plain data (light: the plugin reads it on every run).

The heavy part of a target (its client, payload and flow) is named by ``implementation`` and
imported only when a run is sent to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from tmupload.options import OptionSpec

__all__ = ["CredentialKind", "PackageParts", "TargetSpec", "parts_in"]

#: ``basic``: user + password; ``token``: an API token sent as ``Authorization: Bearer``.
CredentialKind = Literal["basic", "token"]


@dataclass(frozen=True)
class TargetSpec:
    """One server kind: its names, its own settings, what it needs and what it freezes."""

    name: str  # the ``--tm-target`` value
    title: str  # how a person calls the server ("Enterprise Tester")
    options: tuple[OptionSpec, ...]  # the settings only this target (or a few) uses
    credentials: tuple[CredentialKind, ...]  # the ways it accepts to log in
    # Option names (core or its own) that fix where a run goes: frozen into the outbox entry
    # at spool time, so a resend delivers to the same place whatever the current settings say.
    frozen: tuple[str, ...]
    # "module:attribute" of the factory: (settings, transport=, progress=) -> Target.
    implementation: str
    # "module:attribute" of the emulator's ``run_forever(config, host, port, on_ready)``.
    emulator: str | None = None
    # "module:attribute" of ``run_checks(settings) -> Iterator[(passed, line)]`` (tmupload check).
    check: str | None = None
    # "module:attribute" of ``offer(settings, missing names) -> str``: for its own required
    # settings left unset, what the server has to choose from (Zephyr: the project's
    # releases), as text to append to "upload needs …"; best effort, '' when it cannot tell.
    offer_missing: str | None = None
    # "module:attribute" of the demo wiring (serve, environment, pytest_args, show).
    demo: str | None = None
    # Its own options that must have a value (beyond url and project, which every target needs).
    required: tuple[str, ...] = ()
    # "module:attribute" of ``preflight(settings) -> str``: checks, without the client, what
    # only the target can check of the settings (ConfigError) and names the destination for
    # pytest's header. Light: the pytest process imports it (None: the target is built).
    preflight: str | None = None
    # What a URL of this server looks like, for the message a URL it cannot use gets.
    url_example: str = "https://tm.example.com"
    # Whether every live upload makes a run of its own on the server, whatever the run key
    # (Enterprise Tester: a run per import; Zephyr: a phase per upload); on qTest, CI shards
    # land in the same cycle.
    run_per_upload: bool = False


class PackageParts(TypedDict):
    """The "module:attribute" names of ``TargetSpec`` for a target laid out as a package."""

    implementation: str
    preflight: str
    emulator: str
    check: str
    demo: str


def parts_in(package: str, target_class: str) -> PackageParts:
    """Where the parts of a target laid out as the built-in ones are: in ``package``,
    ``target.py`` (``target_class``), ``preflight.py``, ``emulator/``, ``check.py`` and
    ``demo.py`` (a ``TargetSpec`` takes them as ``**parts_in(...)``)."""
    return PackageParts(
        implementation=f"{package}.target:{target_class}",
        preflight=f"{package}.preflight:preflight",
        emulator=f"{package}.emulator",
        check=f"{package}.check:run_checks",
        demo=f"{package}.demo:DEMO",
    )
