"""Status maps and status words, for the targets whose server has statuses of its own (qTest,
Zephyr): pure functions.

* :func:`parse_status_map`: ``--tm-status-map``'s ``outcome=STATUS,...`` over a server's
  defaults, checked for syntax when the target is built (a typo stops pytest before the tests
  run); what a STATUS may be is the server's business.
* :func:`neutral_total` and :data:`BY_OUTCOME`: a status name read back, in the neutral words
  of ``Delivery.totals``; a name none of them fits is counted by the outcome the case was sent
  with.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from tmupload.errors import ConfigError
from tmupload.models import Outcome

__all__ = ["BY_OUTCOME", "neutral_total", "parse_status_map"]

#: The neutral key of each outcome, for a status name :func:`neutral_total` does not know.
BY_OUTCOME = {
    Outcome.PASSED: "passed",
    Outcome.XPASSED: "passed",
    Outcome.FAILED: "failed",
    Outcome.ERROR: "errors",
    Outcome.SKIPPED: "skipped",
    Outcome.XFAILED: "skipped",
}


def _as_given(value: str) -> str:
    return value


def parse_status_map(
    text: str | None,
    option: str,
    defaults: Mapping[str, str],
    *,
    example: str,
    values: str,
    value_of: Callable[[str], str] = _as_given,
) -> dict[str, str]:
    """``outcome=STATUS,...`` over ``defaults``; ``value_of`` reads each STATUS. A pair that
    is not one, an unknown outcome or one given twice is a ConfigError; its message gives
    ``example`` (a good map) and says what the values are (``values``)."""
    mapping = dict(defaults)
    if not text:
        return mapping
    known = ", ".join(defaults)
    seen: set[str] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        outcome, sep, value = part.partition("=")
        outcome, value = outcome.strip().lower(), value.strip()
        if not sep or not outcome or not value:
            raise ConfigError(
                f"{option}: {part.strip()!r} is not outcome=STATUS; write e.g. {example}"
            )
        if outcome not in defaults:
            raise ConfigError(
                f"{option}: unknown outcome {outcome!r}; the outcomes are {known} (the values "
                f"are {values})"
            )
        if outcome in seen:
            raise ConfigError(f"{option}: the outcome {outcome!r} is given twice")
        seen.add(outcome)
        mapping[outcome] = value_of(value)
    return mapping


def neutral_total(name: str, not_run: Collection[str]) -> str | None:
    """A status name as a neutral key: by the words it holds, or ``not_run`` for one of the
    names the server gives a case nobody ran (``not_run``: those, lower case)."""
    word = name.strip().lower()
    if "pass" in word:
        return "passed"
    if "fail" in word:
        return "failed"
    if "error" in word or "block" in word:
        return "errors"
    if "skip" in word:
        return "skipped"
    if word in not_run:
        return "not_run"
    return None
