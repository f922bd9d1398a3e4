"""The one list of servers tmupload sends to: a new server is a folder plus one entry here.

Everything that names the targets reads them from here: the ``target`` setting's choices,
default and help, every front end's flags, the contract suite's emulators. Importing this
module imports only the targets' ``spec`` modules (plain data); the client code of a target
is imported by :func:`load_target` when a run is sent to it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tmupload.errors import ConfigError
from tmupload.options import OPTIONS, OptionSpec
from tmupload.targets.spec import TargetSpec

if TYPE_CHECKING:
    import httpx

    from tmupload.targets.base import Progress, Target

__all__ = [
    "DEFAULT_TARGET",
    "all_options",
    "get_option",
    "get_spec",
    "load_attribute",
    "load_target",
    "make_target",
    "register",
    "spec_module",
    "target_names",
    "unregister",
]

# name -> module holding ``SPEC``, in the order --help lists them.
_SPEC_MODULES: dict[str, str] = {
    "et": "tmupload.targets.et.spec",
    "qtest": "tmupload.targets.qtest.spec",
    "zephyr": "tmupload.targets.zephyr.spec",
}
#: Where a run goes when no target is named (the first server tmupload supported).
DEFAULT_TARGET = "et"
_LOADED: dict[str, TargetSpec] = {}


def register(name: str, spec_module: str) -> None:
    """Add (or replace) a target; its module must define ``SPEC``. For plug-ins and tests."""
    _SPEC_MODULES[name] = spec_module
    _LOADED.pop(name, None)


def unregister(name: str) -> None:
    """Remove a target added with :func:`register`."""
    _SPEC_MODULES.pop(name, None)
    _LOADED.pop(name, None)


def spec_module(name: str) -> str | None:
    """The module holding target ``name``'s ``SPEC`` (to register it in another process)."""
    return _SPEC_MODULES.get(name)


def target_names() -> tuple[str, ...]:
    return tuple(_SPEC_MODULES)


def get_spec(name: str) -> TargetSpec:
    """The spec of target ``name``; ConfigError names the known targets."""
    spec = _LOADED.get(name)
    if spec is None:
        module_name = _SPEC_MODULES.get(name)
        if module_name is None:
            raise ConfigError(
                f"unknown target {name!r}: choose one of {', '.join(_SPEC_MODULES)} "
                "(--tm-target, ini tm_target, env TMUPLOAD_TARGET)"
            )
        spec = importlib.import_module(module_name).SPEC
        assert isinstance(spec, TargetSpec)
        _LOADED[name] = spec
    return spec


def all_options() -> tuple[OptionSpec, ...]:
    """The core options, then every target's own, each once.

    Two targets may declare the same option (qTest and Zephyr both take ``cycle``): it becomes
    one flag whose ``targets`` lists both, provided they agree on its kind and default.
    """
    merged: dict[str, OptionSpec] = {spec.name: spec for spec in OPTIONS}
    for name in _SPEC_MODULES:
        for option in get_spec(name).options:
            known = merged.get(option.name)
            if known is None:
                merged[option.name] = _with_targets(option, (name,))
                continue
            if not known.targets or (known.kind, known.default) != (option.kind, option.default):
                raise RuntimeError(  # a programming error in a spec, not a user's
                    f"target {name!r} redefines option {option.name!r} differently"
                )
            merged[option.name] = _with_targets(known, (*known.targets, name))
    merged["target"] = _target_option(merged["target"])
    return tuple(merged.values())


def _target_option(placeholder: OptionSpec) -> OptionSpec:
    """The ``target`` setting, its choices, default and help made from this list."""
    titles = ", ".join(f"{name} ({get_spec(name).title})" for name in _SPEC_MODULES)
    return OptionSpec(
        placeholder.name,
        placeholder.kind,
        DEFAULT_TARGET,
        f"{placeholder.help}: {titles}",
        choices=tuple(_SPEC_MODULES),
    )


def get_option(name: str) -> OptionSpec:
    """The setting called ``name``, core or a target's (KeyError for an unknown name)."""
    for option in all_options():
        if option.name == name:
            return option
    raise KeyError(name)


def _with_targets(option: OptionSpec, targets: tuple[str, ...]) -> OptionSpec:
    return OptionSpec(
        option.name,
        option.kind,
        option.default,
        option.help,
        choices=option.choices,
        cli=option.cli,
        targets=tuple(dict.fromkeys(targets)),
    )


def load_attribute(reference: str) -> Any:
    """Import ``"module:attribute"``."""
    module_name, _, attribute = reference.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def load_target(name: str) -> Callable[..., Target]:
    """The factory of target ``name``: ``(settings, *, transport, progress) -> Target``."""
    spec = get_spec(name)
    try:
        return load_attribute(spec.implementation)  # type: ignore[no-any-return]
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("tmupload.targets"):
            raise
        raise ConfigError(
            f"{spec.title} (--tm-target {name}) is not supported by this version of tmupload yet"
        ) from None


class _ChosenTarget(Protocol):
    """What :func:`make_target` reads of the settings (the whole settings go to the target)."""

    @property
    def target(self) -> str: ...


def make_target(
    settings: _ChosenTarget,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
) -> Target:
    """The target ``settings.target`` names, built for these settings."""
    from tmupload.targets.base import quiet

    factory = load_target(settings.target)
    target: Target = factory(settings, transport=transport, progress=progress or quiet)
    return target
