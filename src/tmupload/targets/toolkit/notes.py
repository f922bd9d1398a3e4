"""What a result's notes say of how it ran, worded alike on every server that takes notes
(qTest's log note, Zephyr's execution notes): the reruns, and the phase that failed."""

from __future__ import annotations

from tmupload.models import CaseResult, Outcome

__all__ = ["how_it_ran"]


def how_it_ran(case: CaseResult) -> list[str]:
    """``failed after 3 attempts (attempt 1: failed (boom); …)`` for a rerun case, and
    ``error in setup`` for an error outside the test's call; nothing for a plain one."""
    lines: list[str] = []
    if case.attempts:
        tries = "; ".join(
            f"attempt {number}: {attempt.outcome.value}"
            + (f" ({attempt.message})" if attempt.message else "")
            for number, attempt in enumerate(case.attempts, start=1)
        )
        lines.append(f"{case.outcome.value} after {len(case.attempts) + 1} attempts ({tries})")
    if case.outcome is Outcome.ERROR and case.failed_phase:
        lines.append(f"error in {case.failed_phase}")
    return lines
