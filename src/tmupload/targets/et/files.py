"""Files on result nodes (docs/servers/et.md §5.4; uploads are MIME multipart,
docs/servers/et.md §2.10)."""

from __future__ import annotations

import uuid
from typing import Any

from tmupload.targets.et.api import EtApi
from tmupload.targets.et.models import items_of, json_body

__all__ = ["attach_to_node", "node_attachments"]


def node_attachments(api: EtApi, run_id: str, node_id: str) -> list[dict[str, Any]]:
    response = api.http.request("GET", f"api/automatedtestrun/{run_id}/node/{node_id}/attachments")
    items = items_of(json_body(response, "node attachments"), "node attachments")
    return [item for item in items if isinstance(item, dict)]


def attach_to_node(
    api: EtApi, run_id: str, node_id: str, file_name: str, content_type: str, data: bytes
) -> None:
    """One file as ``multipart/mixed``, its part headers as the documented example has
    them (docs/servers/et.md §2.10): a 201 answers with the node's attachments."""
    boundary = uuid.uuid4().hex
    quoted = file_name.replace('"', "'").replace("\r", " ").replace("\n", " ")
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: attachment; filename="{quoted}"; name=file; '
        f"size={len(data)}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    api.http.request(
        "POST",
        f"api/automatedtestrun/{run_id}/node/{node_id}/attachments",
        content=head + data + f"\r\n--{boundary}--\r\n".encode("ascii"),
        headers={"Content-Type": f"multipart/mixed; boundary={boundary}"},
        idempotent=False,
        ok=(201, 200),
    )
