"""Attachments on executions (ref §4.7 [CLIENT]): upload the bytes, then register them.

Step 1 (``POST /flex/upload/document/genericattachment``, outside the REST base) only parks
the bytes on the server, so repeating it is harmless; step 2 (``POST attachment/list``)
creates the attachment and is not idempotent. After an attempt whose answers may have been
lost (an intent in the journal without its finished step), an execution's attachments are
read back first and a file already there by name and size is not sent again.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from tmupload.errors import ServerProtocolError
from tmupload.http.client import HttpClient
from tmupload.models import Attachment, CaseResult
from tmupload.targets.zephyr.api import ZephyrApi, split_base

__all__ = ["ExecutionFiles"]

_ITEM_TYPE = "releaseTestSchedule"  # ref §4.7: an execution; the read-back is case-sensitive


class ExecutionFiles:
    def __init__(
        self,
        api: ZephyrApi,
        executions: dict[str, int],
        tester_id: int,
        *,
        look_first: bool,
    ) -> None:
        self.api = api
        self.executions = executions  # case id -> execution id
        self.tester_id = tester_id
        self.look_first = look_first

    def send(self, case: CaseResult, item: Attachment) -> None:
        execution = self.executions.get(case.case_id)
        if execution is None:
            raise ServerProtocolError(f"the server shows no execution for {case.case_id}")
        if self.look_first and self._already_there(execution, item):
            return
        data = Path(item.path).read_bytes()
        temp_path = self._park(item.name, item.content_type, data)
        self.api.write(
            "POST",
            "attachment/list",
            f"registering {item.name}",
            [
                {
                    "contentType": item.content_type,
                    "fileSize": len(data),
                    "itemId": execution,
                    "itemType": _ITEM_TYPE,
                    "name": item.name,
                    "tempPath": temp_path,
                    "createdBy": self.tester_id,
                    "timeStamp": int(time.time() * 1000),
                }
            ],
        )

    def _already_there(self, execution: int, item: Attachment) -> bool:
        found = self.api.get(
            "attachment",
            "attachments",
            {"itemid": str(execution), "type": _ITEM_TYPE, "isLink": "false"},
        )
        items = found.get("results", found) if isinstance(found, dict) else found
        return any(
            isinstance(entry, dict)
            and str(entry.get("name")) == item.name
            and _size(entry) == item.size
            for entry in items or []
        )

    def _park(self, name: str, content_type: str, data: bytes) -> str:
        """Step 1: multipart/form-data whose file part is named after the item type."""
        http: HttpClient = self.api.http
        root, _ = split_base(http.base_url)
        boundary = uuid.uuid4().hex
        safe = name.replace('"', "'").replace("\r", " ").replace("\n", " ")
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{_ITEM_TYPE}"; filename="{safe}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        response = http.request(
            "POST",
            f"{root}/flex/upload/document/genericattachment",
            content=head + data + f"\r\n--{boundary}--\r\n".encode("ascii"),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            idempotent=True,  # it only parks bytes: a repeat leaves an unused temp file
            ok=(200, 201),
        )
        try:
            answer: Any = response.json()
        except ValueError:
            answer = None
        first = answer[0] if isinstance(answer, list) and answer else answer
        temp_path = first.get("tempFilePath") if isinstance(first, dict) else None
        if not temp_path:
            raise ServerProtocolError(
                f"the upload of {name} named no tempFilePath (ref §4.7): {str(answer)[:200]}"
            )
        return str(temp_path)


def _size(entry: dict[str, Any]) -> int:
    for key in ("fileSize", "size"):
        try:
            return int(entry[key])
        except (KeyError, TypeError, ValueError):
            continue
    return -1
