"""The journal of one outbox entry: finished steps, intents and per-item progress, on disk.

Each finished step is a file of its own, ``steps/<hash>.json`` (``{"step": name, "data": …}``),
written atomically: recording a step costs that step alone, however many ids the steps before
it hold (a run of 30,000 cases journals maps of 30,000 ids). ``intents.json`` holds the intents
and is replaced atomically when one changes. ``items.jsonl`` gets one line per finished item,
appended and flushed at once (the last line for a key wins), so a thousand links cost a
thousand small appends, not a thousand rewrites. An older ``steps.json`` — ``{"done": …,
"intents": …}``, or before that a flat ``{step: data}`` with link progress under ``"links"``
— is read as such.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["FileJournal", "write_atomic"]

_LEGACY_ITEM_STEPS = ("links",)  # steps of schema 1 that held per-item progress


def write_atomic(path: Path, data: bytes | Iterable[str]) -> None:
    """Write ``path`` through a temporary file and a rename: never half-written.

    ``data`` is the bytes, or UTF-8 text in pieces (written as they come, never joined)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        if isinstance(data, bytes):
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as text:
                text.writelines(data)
                text.flush()
                os.fsync(text.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def json_pieces(value: Any) -> Iterator[str]:
    """``value`` as compact JSON text (``_dumps``), in pieces: a dict or list of more than
    ``_SLICE`` items a slice at a time. A step of a million cases journals maps of a million
    ids; ``json.dumps(...).encode()`` held that text twice (str and bytes) at once, a peak of
    several hundred MB, where the slices (each through the C encoder) hold a few hundred kB."""
    # A big container goes a slice at a time (what it holds is small: ids, short records);
    # a small one that holds a big one is written around it.
    if isinstance(value, dict) and len(value) > _SLICE:
        items = iter(value.items())
        yield "{"
        separator = ""
        while chunk := dict(itertools.islice(items, _SLICE)):
            yield separator + _dumps(chunk)[1:-1]
            separator = ","
        yield "}"
    elif isinstance(value, list) and len(value) > _SLICE:
        yield "["
        separator = ""
        for start in range(0, len(value), _SLICE):
            yield separator + _dumps(value[start : start + _SLICE])[1:-1]
            separator = ","
        yield "]"
    elif isinstance(value, dict) and _has_big(value.values()):
        yield "{"
        for number, (key, item) in enumerate(value.items()):
            yield ("," if number else "") + _dumps(str(key)) + ":"
            yield from json_pieces(item)
        yield "}"
    elif isinstance(value, list) and _has_big(value):
        yield "["
        for number, item in enumerate(value):
            if number:
                yield ","
            yield from json_pieces(item)
        yield "]"
    else:
        yield _dumps(value)


_SLICE = 10_000


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _has_big(items: Iterable[Any]) -> bool:
    """Whether a container among ``items`` is worth writing in pieces (is or holds a big one)."""
    return any(
        isinstance(item, (dict, list))
        and (len(item) > _SLICE or _has_big(item.values() if isinstance(item, dict) else item))
        for item in items
        if isinstance(item, (dict, list))
    )


class FileJournal:
    """A Journal (see ``targets.base``) kept in an outbox entry's folder."""

    def __init__(self, folder: Path) -> None:
        self._steps_path = folder / "steps.json"  # written by earlier versions only
        self._step_folder = folder / "steps"
        self._intents_path = folder / "intents.json"
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
        for path in sorted(self._step_folder.glob("*.json")) if self._step_folder.is_dir() else []:
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # never half-written (atomic), but be tolerant of strays
            if isinstance(record, dict) and isinstance(record.get("data"), dict):
                self._done[str(record["step"])] = record["data"]
        try:
            intents = json.loads(self._intents_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            intents = None
        if isinstance(intents, dict):
            self._intents = dict(intents)
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

    def _step_path(self, step: str) -> Path:
        digest = hashlib.sha256(step.encode("utf-8")).hexdigest()[:32]
        return self._step_folder / f"{digest}.json"

    def _save_step(self, step: str) -> None:
        self._step_folder.mkdir(exist_ok=True)
        record = {"step": step, "data": self._done[step]}
        write_atomic(self._step_path(step), json_pieces(record))

    def _save_intents(self) -> None:
        write_atomic(self._intents_path, json.dumps(self._intents).encode("utf-8"))

    def done(self, step: str) -> dict[str, Any] | None:
        return self._done.get(step)

    def finish(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._done[step] = data
            self._save_step(step)
            if self._intents.pop(step, None) is not None:
                self._save_intents()

    def intent(self, step: str) -> dict[str, Any] | None:
        return self._intents.get(step)

    def declare(self, step: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._intents[step] = data
            self._save_intents()

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
            for path in (self._steps_path, self._intents_path, self._items_path):
                path.unlink(missing_ok=True)
            shutil.rmtree(self._step_folder, ignore_errors=True)

    def summary(self) -> list[str]:
        """The finished steps and item counts, for ``tmupload outbox`` and resend messages."""
        parts = list(self._done)
        parts += [f"{len(items)} {kind}" for kind, items in self._items.items() if items]
        return parts
