"""Attachments on executions, in two calls (docs/servers/zephyr.md §5.7 [CLIENT]).

1. ``POST /flex/upload/document/genericattachment`` (outside ``/flex/services/rest``),
   multipart/form-data whose file parts are named after the item type -> ``[{"fileName",
   "fieldName", "tempFilePath", "contentType"}]``.
2. ``POST {base}/attachment/list`` with ``[{"contentType", "fileSize", "itemId", "itemType",
   "name", "tempPath", "createdBy", "timeStamp"}]`` registers them on their items.
"""

from __future__ import annotations

import hashlib
import mimetypes
import uuid
from typing import Any
from urllib.parse import quote

from .base import Resources
from .multipart import parse_form_data
from .protocol import ApiError, Request, Response, as_int, json_response
from .state import Attachment, Upload, User
from .views import attachment_view

__all__ = ["ITEM_TYPES", "AttachmentResources"]

#: docs/servers/zephyr.md §5.7: the field names / item types; ``type`` is case-sensitive [3P].
ITEM_TYPES = ("releaseTestSchedule", "testcase", "requirement")

#: Part content types that say nothing about the file (the plugin sends every part as
#: ``multipart/form-data`` [CLIENT]); the type is then guessed from the file name.
_VAGUE_TYPES = {"", "application/octet-stream", "multipart/form-data"}


class AttachmentResources(Resources):
    def post_upload(self, request: Request, user: User) -> Response:
        """Step 1. [inference] ``tempFilePath`` is an opaque server path; ``fileName`` comes
        back URL-encoded (the plugin URL-decodes it before matching, docs/servers/zephyr.md §5.7
        [CLIENT]); a part without a file name, or named after no item type, is a 400."""
        parts = parse_form_data(request.content_type, request.body)
        files = [p for p in parts if p.filename is not None]
        if not files:
            raise ApiError(400, "The upload holds no file part.")
        if len(files) > self.config.max_bulk:
            raise ApiError(400, f"Too many files: {len(files)}; at most {self.config.max_bulk}.")
        for part in files:
            if part.name not in ITEM_TYPES:
                raise ApiError(
                    400, f"File part field {part.name!r} is not one of {', '.join(ITEM_TYPES)}."
                )
            if not part.filename:
                raise ApiError(400, "A file part has an empty file name.")
        answer = []
        for part in files:
            name = part.filename or ""
            content_type = part.content_type.split(";")[0].strip().lower()
            if content_type in _VAGUE_TYPES:
                content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            temp_path = f"/opt/zephyr/tomcat/temp/{uuid.uuid4().hex}/{name}"
            self.state.uploads[temp_path] = Upload(
                temp_path, name, part.name, content_type, part.data
            )
            answer.append(
                {
                    "fileName": quote(name, safe=""),
                    "fieldName": part.name,
                    "tempFilePath": temp_path,
                    "contentType": content_type,
                }
            )
        return json_response(200, answer)

    def post_attachment_list(self, request: Request, user: User) -> Response:
        """Step 2. [inference] ``tempPath`` must come from step 1 and be used once, the item
        must exist (executions only are checked), and a ``fileSize`` other than the uploaded
        byte count is a 400. The registered ``contentType`` wins over the upload's."""
        items = request.json_list(self.config.max_bulk)
        planned = [self._planned(index, item) for index, item in enumerate(items)]
        paths = [upload.temp_path for _, upload, _, _ in planned]
        if len(set(paths)) != len(paths):
            raise ApiError(400, "The same tempPath is registered twice.")
        answer = []
        for item_type, upload, item_id, fields in planned:
            attachment = Attachment(
                id=self.state.new_id(),
                item_id=item_id,
                item_type=item_type,
                name=fields["name"],
                content_type=fields["content_type"] or upload.content_type,
                size=len(upload.data),
                sha256=hashlib.sha256(upload.data).hexdigest(),
                data=upload.data,
                created_by=user.id,
                created_on=self.state.now_ms(),
            )
            upload.registered = True
            self.state.attachments[attachment.id] = attachment
            if item_type == "releaseTestSchedule":
                self.state.executions[item_id].attachment_ids.append(attachment.id)
            answer.append(attachment_view(attachment))
        return json_response(200, answer)

    def _planned(self, index: int, item: Any) -> tuple[str, Upload, int, dict[str, str]]:
        where = f"item {index}"
        if not isinstance(item, dict):
            raise ApiError(400, f"{where} must be an object.")
        item_type = item.get("itemType")
        if item_type not in ITEM_TYPES:
            raise ApiError(400, f"{where}: itemType must be one of {', '.join(ITEM_TYPES)}.")
        item_id = as_int(item.get("itemId"), f"{where}: itemId") or 0
        if item_type == "releaseTestSchedule" and item_id not in self.state.executions:
            raise ApiError(400, f"{where}: execution {item_id} does not exist.")
        upload = self.state.uploads.get(str(item.get("tempPath") or ""))
        if upload is None:
            raise ApiError(400, f"{where}: tempPath is not an uploaded file.")
        if upload.registered:
            raise ApiError(400, f"{where}: the file at tempPath is already registered.")
        size = as_int(item.get("fileSize"), f"{where}: fileSize", required=False)
        if size is not None and size != len(upload.data):
            raise ApiError(
                400, f"{where}: fileSize {size} differs from the upload ({len(upload.data)})."
            )
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, f"{where}: name is required.")
        content_type = item.get("contentType")
        fields = {
            "name": name,
            "content_type": content_type if isinstance(content_type, str) else "",
        }
        return item_type, upload, item_id, fields

    def get_attachments(self, request: Request, user: User) -> Response:
        """docs/servers/zephyr.md §5.7 [BP]: ``GET /attachment?itemid=&type=``; ``type`` is
        case-sensitive [3P]."""
        item_id = request.int_param("itemid")
        kind = request.query.get("type", "")  # the value keeps its case
        if item_id is None or not kind:
            raise ApiError(400, "Query parameters itemid and type are required.")
        found = [
            attachment_view(a)
            for a in self.state.attachments.values()
            if a.item_id == item_id and a.item_type == kind
        ]
        return json_response(200, found)
