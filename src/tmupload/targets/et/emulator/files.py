"""Run attachments, node attachments and attachment contents (docs/servers/et.md §5.4, uploads
docs/servers/et.md §2.10).

* ``GET|POST /api/automatedtestrun/{runId}/attachments``
* ``GET|POST /api/automatedtestrun/{runId}/node/{nodeId}/attachments``
* ``GET|DELETE /api/automatedtestrun/{runId}/attachment/{attachmentId}`` (and the same under
  ``/node/{nodeId}``): DELETE is documented, GET of an item is an [inference] (its ``Self``)
* ``GET /api/attachment/{id}/contents``: the bytes

The attachments themselves are kept in attachments.py (``State.attachments``).
"""

from __future__ import annotations

from urllib.parse import quote

from .attachments import Attachment
from .multipart import parse_multipart
from .protocol import ApiError, Request, Response, json_response, normalize_guid
from .resource import ResourceBase, lookup
from .result_views import attachment_json

__all__ = ["AttachmentResources", "content_response"]


class AttachmentResources(ResourceBase):
    """docs/servers/et.md §5.4."""

    def _owner(self, run_id: str, node_id: str | None) -> tuple[str, str | None]:
        """(run id, node id or None) of an existing run or node; 404 otherwise
        (docs/servers/et.md §5.4)."""
        if node_id is None:
            return lookup(self.state.runs, run_id, "automated test run").id, None
        run, node = self._node(run_id, node_id)
        return run.id, node.id

    def _list(self, request: Request, run_id: str, node_id: str | None) -> Response:
        """docs/servers/et.md §5.4: a **bare JSON array**, oldest first [inference: upload
        order]."""
        owner = self._owner(run_id, node_id)
        items = [attachment_json(request.root, a) for a in self.state.attachments.of(*owner)]
        return json_response(200, items)

    def _upload(self, request: Request, run_id: str, node_id: str | None) -> Response:
        """docs/servers/et.md §5.4 POST: a multipart upload (docs/servers/et.md §2.10) -> 201 with
        the list of attachments.

        Every part becomes one attachment. [inference] The 201 lists the attachments this
        request created (not the run's or node's earlier ones); an unknown run or node (404)
        is reported before a body that is not multipart (415).
        """
        owner = self._owner(run_id, node_id)
        parts = parse_multipart(request.content_type, request.body)
        now = self.now()
        user_id = self._user(request).id
        created = [
            self.state.attachments.add(
                *owner, part.file_name, part.content_type, part.content, now, user_id
            )
            for part in parts
        ]
        return json_response(201, [attachment_json(request.root, a) for a in created])

    def _item(self, run_id: str, node_id: str | None, attachment_id: str) -> Attachment:
        owner = self._owner(run_id, node_id)
        attachment = self.state.attachments.by_id.get(normalize_guid(attachment_id) or "")
        if attachment is None or (attachment.run_id, attachment.node_id) != owner:
            raise ApiError(404, f"No attachment with id '{attachment_id}' was found here.")
        return attachment

    # -- run attachments -------------------------------------------------------------------

    def get_run_attachments(self, request: Request, run_id: str) -> Response:
        return self._list(request, run_id, None)

    def post_run_attachments(self, request: Request, run_id: str) -> Response:
        return self._upload(request, run_id, None)

    def get_run_attachment(self, request: Request, run_id: str, attachment_id: str) -> Response:
        """[inference] The item at its ``Self`` URL."""
        attachment = self._item(run_id, None, attachment_id)
        return json_response(200, attachment_json(request.root, attachment))

    def delete_run_attachment(self, request: Request, run_id: str, attachment_id: str) -> Response:
        """docs/servers/et.md §5.4: 200; 404. [inference] The answer shows the deleted item."""
        attachment = self._item(run_id, None, attachment_id)
        self.state.attachments.remove(attachment)
        return json_response(200, attachment_json(request.root, attachment))

    # -- node attachments ------------------------------------------------------------------

    def get_node_attachments(self, request: Request, run_id: str, node_id: str) -> Response:
        return self._list(request, run_id, node_id)

    def post_node_attachments(self, request: Request, run_id: str, node_id: str) -> Response:
        return self._upload(request, run_id, node_id)

    def get_node_attachment(
        self, request: Request, run_id: str, node_id: str, attachment_id: str
    ) -> Response:
        """[inference] The item at its ``Self`` URL."""
        attachment = self._item(run_id, node_id, attachment_id)
        return json_response(200, attachment_json(request.root, attachment))

    def delete_node_attachment(
        self, request: Request, run_id: str, node_id: str, attachment_id: str
    ) -> Response:
        """docs/servers/et.md §5.4: 200; 404. [inference] The answer shows the deleted item."""
        attachment = self._item(run_id, node_id, attachment_id)
        self.state.attachments.remove(attachment)
        return json_response(200, attachment_json(request.root, attachment))

    # -- contents --------------------------------------------------------------------------

    def get_attachment_contents(self, request: Request, attachment_id: str) -> Response:
        """docs/servers/et.md §5.4: the bytes, with the stored content type.

        [inference] ``Content-Disposition: attachment`` with the file name.
        """
        attachment = lookup(self.state.attachments.by_id, attachment_id, "attachment")
        return content_response(attachment, inline=False)


def content_response(attachment: Attachment, *, inline: bool) -> Response:
    """The bytes of an attachment. ``inline`` (the page's control path) also sandboxes them,
    so an uploaded HTML or SVG file cannot run script on the page's origin."""
    disposition = "inline" if inline else "attachment"
    headers = [
        ("Content-Disposition", _disposition(disposition, attachment.file_name)),
        ("X-Content-Type-Options", "nosniff"),
    ]
    if inline:
        headers.append(("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self'"))
    content_type = attachment.content_type.encode("ascii", errors="replace").decode("ascii")
    return Response(200, attachment.content, content_type, headers)


def _disposition(kind: str, file_name: str) -> str:
    """RFC 6266: an ASCII ``filename`` plus ``filename*`` (UTF-8) when the name needs it."""
    ascii_name = file_name.encode("ascii", errors="replace").decode("ascii")
    ascii_name = ascii_name.replace("\\", "_").replace('"', "_")
    ascii_name = "".join(ch if ch.isprintable() else "_" for ch in ascii_name)
    value = f'{kind}; filename="{ascii_name}"'
    if ascii_name != file_name:
        value += f"; filename*=UTF-8''{quote(file_name, safe='')}"
    return value
