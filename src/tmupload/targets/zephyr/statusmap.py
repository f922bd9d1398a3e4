"""The status map: pytest outcomes -> Zephyr execution status ids (docs/servers/zephyr.md §5.6).
Pure functions.

Two stages, so that a typo stops pytest before the tests run and a status the server lacks
stops the upload before anything is written:

1. :func:`parse_status_map` (syntax, in ``ZephyrTarget.__init__``): ``outcome=VALUE`` pairs
   over the defaults; VALUE is a status name or id, or ``unexecuted`` (leave it as it is).
2. :func:`resolve_status_map` (at the start of ``deliver``/``plan``): each VALUE against the
   server's list from the ``testresult.testresultStatus.LOV`` preference, whose entries must
   be ``active`` (the plugin sends only active ones, docs/servers/zephyr.md §5.6 [CLIENT]).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tmupload.errors import ConfigError, ServerProtocolError
from tmupload.models import Outcome
from tmupload.targets import statusmap

__all__ = [
    "DEFAULT_STATUS_MAP",
    "UNEXECUTED",
    "ServerStatus",
    "parse_status_list",
    "parse_status_map",
    "resolve_status_map",
]

#: The word for "leave the execution unexecuted, reason in the notes" (docs/servers/zephyr.md §5.6:
#: ZE has no confirmed "skipped" status [UNCONFIRMED]; docs/servers/zephyr.md §7 step 4 makes this
#: the default).
UNEXECUTED = "unexecuted"

#: docs/servers/zephyr.md §5.6 [DOC]: 1 PASS, 2 FAIL; names, so a customised list resolves by what
#: it says.
DEFAULT_STATUS_MAP: dict[str, str] = {
    Outcome.PASSED.value: "Pass",
    Outcome.FAILED.value: "Fail",
    Outcome.ERROR.value: "Fail",
    Outcome.SKIPPED.value: UNEXECUTED,
    Outcome.XFAILED.value: UNEXECUTED,
    Outcome.XPASSED.value: "Pass",
}
#: docs/servers/zephyr.md §5.6 [DOC]: the documented ids of the defaults, used when the names
#: differ.
_DOCUMENTED_IDS = {"pass": "1", "fail": "2"}


@dataclass(frozen=True)
class ServerStatus:
    id: str
    name: str
    active: bool


def parse_status_map(text: str | None, option: str = "--tm-status-map") -> dict[str, str]:
    """``outcome=VALUE,...`` over the defaults; an unknown outcome is a ConfigError."""
    return statusmap.parse_status_map(
        text,
        option,
        DEFAULT_STATUS_MAP,
        example="passed=Pass,failed=Fail,skipped=Blocked (a status name or id from Zephyr's "
        f"execution status list, or {UNEXECUTED!r})",
        values=f"status names or ids of Zephyr's execution status list, or {UNEXECUTED!r}",
        value_of=_unexecuted_or_as_given,
    )


def _unexecuted_or_as_given(value: str) -> str:
    return UNEXECUTED if value.lower() == UNEXECUTED else value


def _active(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "")
    return True if value is None else bool(value)


def parse_status_list(body: Any) -> list[ServerStatus]:
    """The preference's entries (docs/servers/zephyr.md §5.6: ``value`` is a JSON *string* of
    ``[{id, active, …}]``). Tolerated: ``value`` already a list; the preference inside a list or a
    ``{"results"}`` envelope; the name under ``value`` or ``name``; ``active`` missing
    (active) or a string."""
    if isinstance(body, dict) and isinstance(body.get("results"), list):
        body = body["results"]
    if isinstance(body, list):
        named = [
            b for b in body if isinstance(b, dict) and "testresultStatus" in str(b.get("name"))
        ]
        body = named[0] if named else body
    raw = body.get("value") if isinstance(body, dict) else body
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ServerProtocolError(
                "the status list (preference testresult.testresultStatus.LOV) is not JSON: "
                f"{raw[:200]}"
            ) from None
    if not isinstance(raw, list):
        raise ServerProtocolError(
            "the status list (preference testresult.testresultStatus.LOV) is not a list of "
            f"statuses: {str(raw)[:200]}"
        )
    statuses: list[ServerStatus] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("id") in (None, ""):
            continue
        name = item.get("value") if isinstance(item.get("value"), str) else item.get("name")
        statuses.append(
            ServerStatus(
                str(item["id"]).strip(), str(name or item["id"]), _active(item.get("active"))
            )
        )
    return statuses


def _describe(statuses: list[ServerStatus]) -> str:
    shown = [f"{s.id} {s.name}" + ("" if s.active else " (inactive)") for s in statuses]
    return ", ".join(shown) or "none"


def _find(value: str, statuses: list[ServerStatus], default: bool) -> ServerStatus | None:
    by_id = [s for s in statuses if s.id == value]
    if by_id:
        return by_id[0]
    lowered = value.strip().lower()
    named = [s for s in statuses if s.name.strip().lower() == lowered]
    if named:
        return next((s for s in named if s.active), named[0])
    if default and lowered in _DOCUMENTED_IDS:
        return next((s for s in statuses if s.id == _DOCUMENTED_IDS[lowered]), None)
    return None


def resolve_status_map(
    mapping: Mapping[str, str], statuses: list[ServerStatus], option: str = "--tm-status-map"
) -> dict[str, str | None]:
    """outcome -> status id to send (None: leave unexecuted). A value the server does not
    have, or has inactive, is a ConfigError naming the statuses it has."""
    resolved: dict[str, str | None] = {}
    problems: list[str] = []
    for outcome, value in mapping.items():
        if value == UNEXECUTED:
            resolved[outcome] = None
            continue
        default = DEFAULT_STATUS_MAP.get(outcome) == value
        found = _find(value, statuses, default)
        if found is None:
            problems.append(f"{outcome}={value} names no status the server has")
        elif not found.active:
            problems.append(f"{outcome}={value} is the inactive status {found.id} {found.name}")
        else:
            resolved[outcome] = found.id
    if problems:
        raise ConfigError(
            f"{option}: " + "; ".join(problems) + f". The server's execution statuses are: "
            f"{_describe(statuses)} — map each outcome to an active one (name or id), or to "
            f"{UNEXECUTED!r}"
        )
    return resolved
