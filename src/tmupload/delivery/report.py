"""What a user reads after an upload: the terminal summary and the JSON manifest."""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from tmupload._version import __version__

__all__ = ["summary_lines", "write_manifest"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tmupload.delivery.pipeline import UploadOutcome

_TOTAL_NAMES = (
    ("Passed", "passed"),
    ("Failed", "failed"),
    ("Errors", "errors"),
    ("Skipped", "skipped"),
    ("NotRun", "not run"),
)
_LINK_NAMES = (
    ("linked", "linked"),
    ("already_linked", "already linked"),
    ("unknown_ticket", "unknown ticket"),
    ("failed", "failed"),
)


def resend_command(outcome: UploadOutcome) -> str:
    outbox = outcome.settings.outbox
    return f"tmupload resend --outbox {outbox}"


def summary_lines(outcome: UploadOutcome) -> list[tuple[str, str]]:
    """(colour, text) lines; colour is '' , 'green', 'yellow' or 'red'."""
    lines: list[tuple[str, str]] = []
    delivery = outcome.delivery
    if outcome.dry_run:
        if outcome.error is not None:
            lines.append(("red", f"dry run failed: {outcome.error}"))
            return lines
        lines.append(("yellow", "dry run: nothing was created or sent"))
        for item in delivery.plan if delivery else []:
            lines.append(("", f"  {item}"))
        return lines
    if delivery is not None and delivery.run_id:
        lines.append(
            (
                "green" if outcome.ok else "yellow",
                f"uploaded {len(outcome.run.cases)} results to {delivery.target}: "
                f"{delivery.run_url}",
            )
        )
        totals = delivery.server_totals
        if totals:
            parts = [f"{totals[key]} {label}" for key, label in _TOTAL_NAMES if totals.get(key)]
            lines.append(
                (
                    "",
                    f"server totals: {', '.join(parts) or 'no results'}"
                    f" (run status {delivery.server_status or '?'})",
                )
            )
        if delivery.unmapped:
            lines.append(
                (
                    "yellow",
                    f"{len(delivery.unmapped)} result(s) have no node on the server, e.g. "
                    f"{delivery.unmapped[0]}",
                )
            )
        if delivery.links:
            counts: Counter[str] = Counter(link.status for link in delivery.links)
            parts = [f"{counts[key]} {label}" for key, label in _LINK_NAMES if counts.get(key)]
            colour = (
                "red"
                if counts.get("failed")
                else ("yellow" if counts.get("unknown_ticket") else "")
            )
            lines.append((colour, "ticket links: " + ", ".join(parts)))
            for link in delivery.links:
                if link.status in ("unknown_ticket", "failed"):
                    what = "unknown ticket" if link.status == "unknown_ticket" else "link failed"
                    reason = f": {link.reason}" if link.reason and link.status == "failed" else ""
                    lines.append(("", f"  {what} {link.key} for {link.case_id}{reason}"))
    if outcome.error is not None:
        lines.append(("red", f"upload FAILED: {outcome.error}"))
    if outcome.outbox_entry is not None:
        lines.append(
            (
                "red" if outcome.error else "yellow",
                f"the results are kept in {outcome.outbox_entry}",
            )
        )
        lines.append(("", f"send them again with: {resend_command(outcome)}"))
    if outcome.manifest_path is not None:
        lines.append(("", f"manifest: {outcome.manifest_path}"))
    return lines


def manifest_data(outcome: UploadOutcome) -> dict[str, Any]:
    delivery = outcome.delivery
    links_by_case: dict[str, list[dict[str, str]]] = {}
    for link in delivery.links if delivery else []:
        links_by_case.setdefault(link.case_id, []).append(
            {"key": link.key, "status": link.status, "reason": link.reason}
        )
    settings = outcome.settings
    cases = []
    for case in outcome.run.cases:
        cases.append(
            {
                "case_id": case.case_id,
                "outcome": case.outcome.value,
                "node_id": delivery.node_ids.get(case.case_id) if delivery else None,
                "server_status": delivery.node_statuses.get(case.case_id) if delivery else None,
                "attempts": len(case.attempts) + 1,
                "links": links_by_case.get(case.case_id, []),
            }
        )
    return {
        "tool": f"tmupload {__version__}",
        "status": "dry-run" if outcome.dry_run else ("uploaded" if outcome.ok else "failed"),
        "error": str(outcome.error) if outcome.error else None,
        "target": delivery.target if delivery else "Enterprise Tester",
        "server": settings.url,
        "project": settings.project,
        "execution_package": settings.execution_package,
        "automated_test": settings.automated_test,
        "run": {
            "id": delivery.run_id if delivery else None,
            "url": delivery.run_url if delivery else None,
            "status": delivery.server_status if delivery else None,
            "totals": delivery.server_totals if delivery else {},
        },
        "outbox_entry": str(outcome.outbox_entry) if outcome.outbox_entry else None,
        "counts": outcome.run.counts(),
        "cases": cases,
        "links": [
            {"case_id": link.case_id, "key": link.key, "status": link.status, "reason": link.reason}
            for link in (delivery.links if delivery else [])
        ],
    }


def write_manifest(outcome: UploadOutcome, path: Path) -> Path:
    """Write the manifest atomically; it never holds a credential (none is ever passed in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(manifest_data(outcome), indent=2, ensure_ascii=False).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return path
