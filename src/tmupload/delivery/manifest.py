"""The JSON manifest: for each case its outcome, the server's record of it, and its links."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from tmupload._version import __version__
from tmupload.delivery.outcome import UploadOutcome

__all__ = ["manifest_data", "write_manifest"]


def manifest_data(outcome: UploadOutcome) -> dict[str, Any]:
    """The manifest as JSON-able data; it never holds a credential (none is ever passed in)."""
    delivery = outcome.delivery
    sent = {
        (item.case_id, item.name): item.status
        for item in (delivery.attachments if delivery else [])
    }
    links_by_case: dict[str, list[dict[str, str]]] = {}
    for link in delivery.links if delivery else []:
        links_by_case.setdefault(link.case_id, []).append(
            {"key": link.key, "status": link.status, "reason": link.reason}
        )
    settings = outcome.settings
    cases = []
    for case in outcome.run.cases:
        result = delivery.results.get(case.case_id) if delivery else None
        cases.append(
            {
                "case_id": case.case_id,
                "outcome": case.outcome.value,
                "result_id": result.id if result else None,
                "server_status": result.status if result else None,
                "attempts": len(case.attempts) + 1,
                "links": links_by_case.get(case.case_id, []),
                "attachments": [
                    {
                        "name": item.name,
                        "content_type": item.content_type,
                        "size": item.size,
                        "sha256": item.sha256,
                        "status": sent.get((case.case_id, item.name), "not sent"),
                    }
                    for item in case.attachments
                ],
            }
        )
    run = delivery.run if delivery else None
    return {
        "tool": f"tmupload {__version__}",
        "status": "dry-run" if outcome.dry_run else ("uploaded" if outcome.ok else "failed"),
        "error": str(outcome.error) if outcome.error else None,
        "target": settings.target,
        "target_title": delivery.target if delivery else None,
        "server": settings.url,
        "project": settings.project,
        "placement": settings.safe_dump()["target_options"],
        "run": {
            "name": outcome.run.name,
            "id": run.id if run else None,
            "url": run.url if run else None,
            "api_url": run.api_url if run else None,
            "where": run.where if run else None,
            "status": run.status if run else None,
            "totals": delivery.totals if delivery else {},
            "run_key": settings.run_key,
            # The build that made it (ci.py): ci, build, build_url, commit, branch.
            "build": {
                key: outcome.run.environment[key]
                for key in ("ci", "build", "build_url", "commit", "branch")
                if outcome.run.environment.get(key)
            },
        },
        "upload_seconds": round(outcome.seconds, 3) if outcome.seconds is not None else None,
        "outbox_entry": str(outcome.outbox_entry) if outcome.outbox_entry else None,
        "counts": outcome.run.counts(),
        "notes": list(outcome.notes),
        "cases": cases,
        "links": [
            {"case_id": link.case_id, "key": link.key, "status": link.status, "reason": link.reason}
            for link in (delivery.links if delivery else [])
        ],
    }


def write_manifest(outcome: UploadOutcome, path: Path) -> Path:
    """Write the manifest atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(manifest_data(outcome), indent=2, ensure_ascii=False).encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return path
