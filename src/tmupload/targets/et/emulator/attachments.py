"""Run and node attachments as the emulator keeps them (docs/servers/et.md §5.4): the bytes and
their facts.

Nothing here knows about HTTP (the resources are in files.py). The caller holds the emulator's
lock. An attachment belongs to a run (``node_id`` None) or to one result node of a run;
[inference] a run's own list never includes its nodes' attachments.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass

from .protocol import new_guid

__all__ = ["DEFAULT_CONTENT_TYPE", "Attachment", "AttachmentStore"]

#: The content type of a part that names none.
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(slots=True)
class Attachment:
    id: str
    run_id: str
    node_id: str | None
    file_name: str
    content_type: str
    content: bytes
    sha256: str
    created_at: float
    created_by_id: str

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def name(self) -> str:
        """docs/servers/et.md §5.4 example: ``Name`` "File 1" for ``FileName`` "File 1.txt".

        [inference] ``Name`` is the file name without its last extension.
        """
        stem, _ = posixpath.splitext(self.file_name)
        return stem or self.file_name

    @property
    def is_image(self) -> bool:
        return self.content_type.lower().startswith("image/")


class AttachmentStore:
    """Every attachment by id, and the attachments of each run and node in upload order."""

    def __init__(self) -> None:
        self.by_id: dict[str, Attachment] = {}
        self._by_owner: dict[tuple[str, str | None], list[Attachment]] = {}

    def __len__(self) -> int:
        return len(self.by_id)

    def add(
        self,
        run_id: str,
        node_id: str | None,
        file_name: str,
        content_type: str,
        content: bytes,
        created_at: float,
        created_by_id: str,
    ) -> Attachment:
        attachment = Attachment(
            id=new_guid(),
            run_id=run_id,
            node_id=node_id,
            file_name=file_name,
            content_type=content_type or DEFAULT_CONTENT_TYPE,
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            created_at=created_at,
            created_by_id=created_by_id,
        )
        self.by_id[attachment.id] = attachment
        self._by_owner.setdefault((run_id, node_id), []).append(attachment)
        return attachment

    def of(self, run_id: str, node_id: str | None = None) -> list[Attachment]:
        """The attachments of a run (``node_id`` None) or of one of its nodes, oldest first."""
        return list(self._by_owner.get((run_id, node_id), ()))

    def has(self, run_id: str, node_id: str | None = None) -> bool:
        return bool(self._by_owner.get((run_id, node_id)))

    def remove(self, attachment: Attachment) -> None:
        self.by_id.pop(attachment.id, None)
        owned = self._by_owner.get((attachment.run_id, attachment.node_id), [])
        if attachment in owned:
            owned.remove(attachment)
