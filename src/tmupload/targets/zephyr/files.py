"""Attachments on executions (docs/servers/zephyr.md §5.7 [CLIENT]): upload the bytes, then register
them.

Step 1 (``POST /flex/upload/document/genericattachment``, outside the REST base) only parks
the bytes on the server, so repeating it is harmless; step 2 (``POST attachment/list``)
creates the attachments and is not idempotent. Both take many files at once
(docs/servers/zephyr.md §5.7: the upload's file parts, each named after the item type, answer an
array of parked files; the registration takes an array), so the files go in batches — at most
``BATCH`` files and ``BATCH_BYTES`` bytes a request — not two requests per file. Each parked file is
matched to its part by the part's file name, unique in the request; a part the answer does not
account for is uploaded on its own.

A batch whose registration is refused goes file by file, each looked for first; so does every
file after an attempt whose answers may have been lost (an intent in the journal without its
finished step): an execution's attachments are read back and a file already there by name and
size is not sent again. Each file is journaled as sent (the core's ``attachments`` items, the
same keys as ``tmupload.attachments.send_all``), so a resend never sends one twice.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from tmupload.errors import ServerError, ServerProtocolError, ServerRejected
from tmupload.http.client import HttpClient
from tmupload.models import Attachment, CaseResult, RunReport
from tmupload.targets.base import AttachmentResult, Journal, Progress
from tmupload.targets.toolkit.steps import ATTACHMENTS, attachment_key
from tmupload.targets.zephyr.api import BATCH, ZephyrApi, decode, split_base

__all__ = ["BATCH_BYTES", "ExecutionFiles"]

# docs/servers/zephyr.md §5.7: an execution; the read-back is case-sensitive
_ITEM_TYPE = "releaseTestSchedule"
#: Most bytes of files one upload request carries (a larger file goes alone).
BATCH_BYTES = 8 * 1024 * 1024


@dataclass(eq=False)
class _File:
    key: str
    case: CaseResult
    item: Attachment
    execution: int
    data: bytes = b""
    temp_path: str = ""


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
        self._there: dict[int, list[dict[str, Any]]] = {}

    # -- many at once ---------------------------------------------------------------------
    def send_all(
        self, run: RunReport, journal: Journal, *, progress: Progress
    ) -> list[AttachmentResult]:
        """Send every attachment of ``run`` not journaled as sent, in batches."""
        done = journal.items(ATTACHMENTS)
        results: dict[str, AttachmentResult] = {}
        order: list[str] = []
        todo: list[_File] = []
        for case in run.cases:
            for index, item in enumerate(case.attachments):
                key = attachment_key(case, index, item)
                order.append(key)
                if done.get(key, {}).get("status") == "sent":
                    results[key] = AttachmentResult(case.case_id, item.name, item.size, "sent")
                    continue
                execution = self.executions.get(case.case_id)
                if execution is None:
                    results[key] = _failed(case, item, "the server shows no execution for it")
                    continue
                todo.append(_File(key, case, item, execution))
        if todo:
            progress(f"sending {len(todo)} attachment(s)")
        for batch in _batches(todo):
            for file, result in self._batch(batch):
                results[file.key] = result
                if result.status == "sent":
                    journal.item_done(ATTACHMENTS, file.key, {"status": "sent"})
        return [results[key] for key in order if key in results]

    def _batch(self, batch: list[_File]) -> list[tuple[_File, AttachmentResult]]:
        out: list[tuple[_File, AttachmentResult]] = []
        ready: list[_File] = []
        for file in batch:
            try:
                if self.look_first and self._already_there(file.execution, file.item):
                    out.append((file, _sent(file)))
                    continue
                file.data = Path(file.item.path).read_bytes()
            except (ServerError, OSError) as exc:
                out.append((file, _failed(file.case, file.item, str(exc))))
                continue
            ready.append(file)
        if not ready:
            return out
        try:
            alone = self._park_many(ready)
        except ServerError as exc:
            return out + [(f, _failed(f.case, f.item, str(exc))) for f in ready]
        together = [f for f in ready if f not in alone]
        for file in alone:  # parts the upload's answer did not account for
            out.append((file, self._one(file)))
        if not together:
            return out
        try:
            self._register(together)
        except ServerRejected:
            # Refused as a whole: file by file, each looked for first (a server may have
            # registered part of the batch), so one bad file does not sink the others.
            self.look_first = True
            return out + [(f, self._one(f)) for f in together]
        except ServerError as exc:  # unknown fate: a resend looks for them first
            return out + [(f, _failed(f.case, f.item, str(exc))) for f in together]
        return out + [(f, _sent(f)) for f in together]

    def _one(self, file: _File) -> AttachmentResult:
        try:
            self.send(file.case, file.item)
        except (ServerError, OSError) as exc:
            return _failed(file.case, file.item, str(exc))
        return _sent(file)

    def _register(self, files: list[_File]) -> None:
        self.api.write(
            "POST",
            "attachment/list",
            f"registering {len(files)} attachment(s)",
            [self._entry(f.execution, f.item, len(f.data), f.temp_path) for f in files],
        )

    def _entry(self, execution: int, item: Attachment, size: int, temp: str) -> dict[str, Any]:
        return {
            "contentType": item.content_type,
            "fileSize": size,
            "itemId": execution,
            "itemType": _ITEM_TYPE,
            "name": item.name,
            "tempPath": temp,
            "createdBy": self.tester_id,
            "timeStamp": int(time.time() * 1000),
        }

    def _park_many(self, files: list[_File]) -> list[_File]:
        """Step 1 for every file at once; sets each file's ``temp_path``. Returns the files
        the answer did not account for (to be sent on their own).

        Each part's file name is made unique in the request (``3-output.txt``: the shown
        name is the one registered in step 2), and each parked file is matched to its part
        by that name, as the vendor's plugin matches them [CLIENT] — never by order alone,
        which would put one test's file on another's execution if a server reordered them."""
        parts = [
            (f"{n}-{_safe(f.item.name)}", f.item.content_type, f.data) for n, f in enumerate(files)
        ]
        answer = self._upload(parts)
        by_name: dict[str, list[dict[str, Any]]] = {}
        for parked in answer:
            for name in _file_names(parked):
                by_name.setdefault(name, []).append(parked)
        alone: list[_File] = []
        for file, (name, _, _) in zip(files, parts, strict=True):
            found = by_name.get(name, [])
            if len(found) == 1:
                file.temp_path = str(found[0]["tempFilePath"])
            else:
                alone.append(file)
        return alone

    # -- one at a time --------------------------------------------------------------------
    def send(self, case: CaseResult, item: Attachment) -> None:
        execution = self.executions.get(case.case_id)
        if execution is None:
            raise ServerProtocolError(f"the server shows no execution for {case.case_id}")
        if self.look_first and self._already_there(execution, item):
            return
        data = Path(item.path).read_bytes()
        parked = self._upload([(_safe(item.name), item.content_type, data)])[0]
        temp_path = str(parked["tempFilePath"])
        self.api.write(
            "POST",
            "attachment/list",
            f"registering {item.name}",
            [self._entry(execution, item, len(data), temp_path)],
        )

    def _already_there(self, execution: int, item: Attachment) -> bool:
        if execution not in self._there:
            found = self.api.get(
                "attachment",
                "attachments",
                {"itemid": str(execution), "type": _ITEM_TYPE, "isLink": "false"},
            )
            items = found.get("results", found) if isinstance(found, dict) else found
            self._there[execution] = [e for e in items or [] if isinstance(e, dict)]
        return any(
            str(entry.get("name")) == item.name and _size(entry) == item.size
            for entry in self._there[execution]
        )

    def _upload(self, parts: list[tuple[str, str, bytes]]) -> list[dict[str, Any]]:
        """Step 1: multipart/form-data, one file part per file, each named after the item
        type -> the parked files (each with its ``tempFilePath``)."""
        http: HttpClient = self.api.http
        root, _ = split_base(http.base_url)
        boundary = uuid.uuid4().hex
        chunks: list[bytes] = []
        for name, content_type, data in parts:
            chunks.append(
                (
                    f"--{boundary}\r\n"
                    f'Content-Disposition: form-data; name="{_ITEM_TYPE}"; filename="{name}"\r\n'
                    f"Content-Type: {content_type}\r\n\r\n"
                ).encode()
            )
            chunks.append(data)
            chunks.append(b"\r\n")
        chunks.append(f"--{boundary}--\r\n".encode("ascii"))
        response = http.request(
            "POST",
            f"{root}/flex/upload/document/genericattachment",
            content=b"".join(chunks),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            idempotent=True,  # it only parks bytes: a repeat leaves unused temp files
            ok=(200, 201),
        )
        try:
            answer: Any = decode(response)
        except ValueError:
            answer = None
        if isinstance(answer, dict):
            answer = [answer]
        parked = [a for a in answer or [] if isinstance(a, dict) and a.get("tempFilePath")]
        if not parked:
            raise ServerProtocolError(
                f"the upload of {len(parts)} file(s) named no tempFilePath "
                "(docs/servers/zephyr.md §5.7): "
                f"{str(answer)[:200]}"
            )
        return parked


def _batches(files: list[_File]) -> list[list[_File]]:
    batches: list[list[_File]] = []
    size = 0
    for file in files:
        if not batches or len(batches[-1]) >= BATCH or size + file.item.size > BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(file)
        size += file.item.size
    return batches


def _safe(name: str) -> str:
    return name.replace('"', "'").replace("\r", " ").replace("\n", " ")


def _file_names(parked: dict[str, Any]) -> set[str]:
    """What the parked file's ``fileName`` may say of its part's name: as it is, or
    URL-decoded (the emulator encodes it; docs/servers/zephyr.md §5.7 shows only the field)."""
    name = parked.get("fileName")
    return set() if name is None else {str(name), unquote(str(name))}


def _sent(file: _File) -> AttachmentResult:
    return AttachmentResult(file.case.case_id, file.item.name, file.item.size, "sent")


def _failed(case: CaseResult, item: Attachment, reason: str) -> AttachmentResult:
    return AttachmentResult(case.case_id, item.name, item.size, "failed", reason)


def _size(entry: dict[str, Any]) -> int:
    for key in ("fileSize", "size"):
        try:
            return int(entry[key])
        except (KeyError, TypeError, ValueError):
            continue
    return -1
