"""Files that go with results: declared by tests or reports, copied into the outbox, bounded.

A test declares one with the ``tm_attach`` fixture (a ``tmupload_attachment`` user property
holding JSON: path, name, content type, and the attempt for an earlier try of a rerun test); a
JUnit report with an ``attachment`` property or a Jenkins ``[[ATTACHMENT|path]]`` line (the
reader makes the path absolute). ``--tm-attach`` adds the captured output and the full
traceback as ``output.txt``. At spool time every file is copied into the outbox entry, so a
temporary file the test deleted still uploads on a resend; what is missing or over the limits
(``--tm-max-attachment``, ``--tm-max-attachments-total``) is left out and said, never silently.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tmupload.errors import ServerError
from tmupload.models import Attachment, CaseResult, RunReport
from tmupload.properties import ATTACHMENT_PROPERTY, FIXTURE_PROPERTY
from tmupload.settings import Settings
from tmupload.targets.base import AttachmentResult, Journal, Progress
from tmupload.targets.toolkit.steps import ATTACHMENTS, attachment_key

__all__ = [
    "AttachmentSpool",
    "Declared",
    "declared",
    "output_text",
    "resolve",
    "send_all",
    "spool_attachments",
]

OUTPUT_NAME = "output.txt"
_FOLDER = "attachments"
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Declared:
    """An attachment as a test or a report declared it, before it is copied."""

    path: Path
    name: str
    content_type: str
    attempt: int | None = None


def content_type_of(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def declared(case: CaseResult) -> list[Declared]:
    """The files a case's properties point to, in the order they were declared."""
    found: list[Declared] = []
    for key, value in case.properties:
        if key == ATTACHMENT_PROPERTY and value.strip():
            path = Path(value.strip())
            found.append(Declared(path, path.name, content_type_of(path.name)))
        elif key == FIXTURE_PROPERTY:
            try:
                data = json.loads(value)
                path = Path(str(data["path"]))
            except (ValueError, KeyError, TypeError):
                continue
            name = str(data.get("name") or path.name)
            attempt = data.get("attempt")
            found.append(
                Declared(
                    path,
                    name,
                    str(data.get("content_type") or content_type_of(name)),
                    int(attempt) if isinstance(attempt, int) else None,
                )
            )
    return found


def output_text(case: CaseResult) -> str:
    """The full failure text and captured output of a case, as one text file ('' if none)."""
    sections = [
        ("failure", case.details or case.message),
        ("stdout", case.stdout),
        ("stderr", case.stderr),
        ("log", case.log),
    ]
    parts = [f"--- {title} ---\n{text.rstrip()}\n" for title, text in sections if text.strip()]
    return "\n".join(parts)


def _wants_output(case: CaseResult, mode: str) -> bool:
    return mode == "all" or (mode == "output" and case.outcome.is_failure)


def spool_attachments(run: RunReport, settings: Settings, entry: Path) -> list[str]:
    """Copy every case's attachments into ``entry/attachments`` and record them on the cases
    (paths relative to ``entry``). Returns one note per file left out, for the summary."""
    spool = AttachmentSpool(settings, entry)
    for case in run.cases:
        spool.add(case)
    return spool.notes


class AttachmentSpool:
    """Copies the attachments of cases, one case at a time as they come, into
    ``entry/attachments``, recording them on each case (paths relative to ``entry``) and
    keeping the run's total within ``--tm-max-attachments-total``."""

    def __init__(self, settings: Settings, entry: Path) -> None:
        self.settings = settings
        self.entry = entry
        self.folder = entry / _FOLDER
        self.notes: list[str] = []  # one a file left out, for the summary
        self.total = 0
        self.index = 0  # the case's place in the run: it keeps the copies' names apart

    def add(self, case: CaseResult) -> None:
        index, self.index = self.index, self.index + 1
        settings, notes = self.settings, self.notes
        pending = declared(case)
        text = output_text(case) if _wants_output(case, settings.attach) else ""
        if not pending and not text and not case.attachments:
            return  # the common case: nothing to copy
        stored: list[Attachment] = []
        for number, item in enumerate(pending, start=1):
            try:
                size = item.path.stat().st_size
            except OSError:
                notes.append(f"{case.case_id}: attachment {item.path} is missing; left out")
                continue
            problem = _too_big(size, self.total, settings)
            if problem:
                notes.append(f"{case.case_id}: attachment {item.name} ({size:,} bytes) {problem}")
                continue
            self.folder.mkdir(exist_ok=True)
            target = self.folder / f"{index}-{number}-{_safe(item.name)}"
            try:
                shutil.copyfile(item.path, target)
            except OSError as exc:
                notes.append(f"{case.case_id}: cannot copy {item.path} ({exc.strerror}); left out")
                continue
            self.total += size
            stored.append(_record(item.name, item.content_type, target, self.entry, item.attempt))
        if text:
            data = text.encode("utf-8")
            problem = _too_big(len(data), self.total, settings)
            if problem:
                notes.append(f"{case.case_id}: {OUTPUT_NAME} ({len(data):,} bytes) {problem}")
            else:
                self.folder.mkdir(exist_ok=True)
                target = self.folder / f"{index}-0-{OUTPUT_NAME}"
                target.write_bytes(data)
                self.total += len(data)
                stored.append(_record(OUTPUT_NAME, "text/plain", target, self.entry, None))
        if stored or case.attachments:
            case.attachments = stored


def _too_big(size: int, total: int, settings: Settings) -> str:
    if size > settings.max_attachment:
        return f"is over {settings.flag('max_attachment')} ({settings.max_attachment:,}); left out"
    if total + size > settings.max_attachments_total:
        return (
            f"would take the run over {settings.flag('max_attachments_total')} "
            f"({settings.max_attachments_total:,}); left out"
        )
    return ""


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name)[:100] or "file"


def _record(
    name: str, content_type: str, target: Path, entry: Path, attempt: int | None
) -> Attachment:
    digest = hashlib.sha256()
    with target.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return Attachment(
        name=name if attempt is None else f"attempt {attempt} - {name}",
        content_type=content_type,
        path=str(target.relative_to(entry)),
        size=target.stat().st_size,
        sha256=digest.hexdigest(),
        attempt=attempt,
    )


def resolve(run: RunReport, entry: Path) -> RunReport:
    """Make the cases' attachment paths absolute within ``entry`` (in place; returns ``run``)."""
    for case in run.cases:
        for attachment in case.attachments:
            if not Path(attachment.path).is_absolute():
                attachment.path = str(entry / attachment.path)
    return run


def send_all(
    run: RunReport,
    send_one: Callable[[CaseResult, Attachment], None],
    journal: Journal,
    *,
    concurrency: int,
    progress: Progress,
    only: Callable[[CaseResult], bool] = lambda case: True,
) -> list[AttachmentResult]:
    """Send every attachment not sent before, ``concurrency`` at a time, journaling each at
    once so that a resend never sends one twice. ``send_one`` raises a ServerError for a
    failure; that attachment is reported failed, the others go on."""
    done = journal.items(ATTACHMENTS)
    results: list[AttachmentResult] = []
    todo: list[tuple[str, CaseResult, Attachment]] = []
    for case in run.cases:
        if not only(case):
            continue
        for index, item in enumerate(case.attachments):
            key = attachment_key(case, index, item)
            if done.get(key, {}).get("status") == "sent":
                results.append(AttachmentResult(case.case_id, item.name, item.size, "sent"))
            else:
                todo.append((key, case, item))
    if not todo:
        return results
    progress(f"sending {len(todo)} attachment(s)")

    def safely(job: tuple[str, CaseResult, Attachment]) -> AttachmentResult:
        key, case, item = job
        try:
            send_one(case, item)
        except (ServerError, OSError) as exc:
            return AttachmentResult(case.case_id, item.name, item.size, "failed", str(exc))
        journal.item_done(ATTACHMENTS, key, {"status": "sent"})
        return AttachmentResult(case.case_id, item.name, item.size, "sent")

    def tell(finished: int) -> None:
        progress(f"sent {finished} of {len(todo)} attachment(s)")

    # Here, not at the top: the pytest process imports this module to spool files and never
    # sends them (its thread pool stays out of the test session's imports).
    from tmupload.targets.batching import in_pool_telling

    results.extend(in_pool_telling(safely, todo, concurrency, tell))
    return results
