"""The journal of one outbox entry: finished steps, intents and per-item progress, on disk.

``steps.json`` holds ``{"done": {step: data}, "intents": {step: data}}`` and is replaced
atomically on every change; ``items.jsonl`` gets one line per finished item, appended and
flushed at once (the last line for a key wins), so a thousand links cost a thousand small
appends, not a thousand rewrites. Entries written before schema 2 kept a flat ``steps.json``
(``{step: data}``, link progress under ``"links"``): they are read as such.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = ["FileJournal", "write_atomic"]

_LEGACY_ITEM_STEPS = ("links",)  # steps of schema 1 that held per-item progress


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file and a rename: never half-written."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class FileJournal:
    """A Journal (see ``targets.base``) kept in an outbox entry's folder."""

    def __init__(self, folder: Path) -> None:
        self._steps_path = folder / "steps.json"
        self._items_path = folder / "items.jsonl"
        self._lock = threading.Lock()
        self._done: dict[str, dict[str, Any]] = {}
        self._intents: dict[str, dict[str, Any]] = {}
        self._items: dict[str, dict[str, dict[str, Any]]] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = json.loads(self._steps_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        if not isinstance(raw, dict):
            raw = {}
        if "done" in raw or "intents" in raw:
            self._done = dict(raw.get("done") or {})
            self._intents = dict(raw.get("intents") or {})
        else:  # schema 1: a flat {step: data}
            for step, data in raw.items():
                if step in _LEGACY_ITEM_STEPS and isinstance(data, dict):
                    self._items[step] = {
                        str(key): value for key, value in data.items() if isinstance(value, dict)
                    }
                elif isinstance(data, dict):
                    self._done[step] = data
        try:
            lines = self._items_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash: that item is simply done again
            if isinstance(item, dict) and isinstance(item.get("data"), dict):
                self._items.setdefault(str(item["kind"]), {})[str(item["key"])] = item["data"]

    def _save(self) -> None:
        data = {"done": self._done, "intents": self._intents}
        write_atomic(self._steps_path, json.dumps(data).encode("utf-8"))

    def done(self, step: str) -> dict[str, Any] | None:
        return self._done.get(step)

    def finish(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._done[step] = data
            self._intents.pop(step, None)
            self._save()

    def intent(self, step: str) -> dict[str, Any] | None:
        return self._intents.get(step)

    def declare(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._intents[step] = data
            self._save()

    def items(self, kind: str) -> dict[str, dict[str, Any]]:
        return dict(self._items.get(kind, {}))

    def item_done(self, kind: str, key: str, data: dict[str, Any]) -> None:
        line = json.dumps({"kind": kind, "key": key, "data": data}) + "\n"
        with self._lock:
            self._items.setdefault(kind, {})[key] = data
            with open(self._items_path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()

    def reset(self) -> None:
        """Forget everything: the delivery starts over (its cached server ids no longer hold)."""
        with self._lock:
            self._done.clear()
            self._intents.clear()
            self._items.clear()
            self._save()
            self._items_path.unlink(missing_ok=True)

    def summary(self) -> list[str]:
        """The finished steps and item counts, for ``tmupload outbox`` and resend messages."""
        parts = list(self._done)
        parts += [f"{len(items)} {kind}" for kind, items in self._items.items() if items]
        return parts
