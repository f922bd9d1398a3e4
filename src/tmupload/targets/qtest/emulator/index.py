"""Records by id with secondary indexes kept in step with every insert (a testing aid).

The emulator's state holds test cases, runs, cycles and modules in dicts by id, and its
lookups ("the test case with this Automation Content", "the run of this content in this
cycle", "the sub-cycle of this name") used to scan every record: an upload of N logs then cost
the emulator O(N²). :class:`IndexedRecords` is still a plain ``dict[int, record]`` to every
reader, and whoever inserts into it (the state itself, ``automation.py``, a test) updates its
indexes too, because every writing method of ``dict`` goes through them.

An index maps a key computed from a record (e.g. ``(project_id, automation_content)``) to the
ids of the records with that key, in the order they were inserted, so :meth:`first` gives the
record a scan of ``values()`` would have found first. The key fields must not change after a
record is inserted (nothing in the emulator assigns them); replacing the record under the same
id re-indexes it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, Generic, TypeVar

__all__ = ["IndexedRecords"]

R = TypeVar("R")


class IndexedRecords(dict[int, R], Generic[R]):
    """A ``dict`` of records by id, with named indexes (name -> key function)."""

    def __init__(self, **indexes: Callable[[R], Hashable]) -> None:
        super().__init__()
        self._keys = indexes
        self._indexes: dict[str, dict[Hashable, dict[int, None]]] = {name: {} for name in indexes}

    # -- lookups ---------------------------------------------------------------------------

    def first(self, index: str, key: Hashable) -> R | None:
        """The earliest inserted record whose ``index`` key is ``key``, or None."""
        ids = self._indexes[index].get(key)
        if not ids:
            return None
        return self[next(iter(ids))]

    def all(self, index: str, key: Hashable) -> list[R]:
        """Every record whose ``index`` key is ``key``, in insertion order."""
        return [self[record_id] for record_id in self._indexes[index].get(key, ())]

    # -- keeping the indexes in step ---------------------------------------------------------

    def _add(self, record_id: int, record: R) -> None:
        for name, key_of in self._keys.items():
            self._indexes[name].setdefault(key_of(record), {})[record_id] = None

    def _drop(self, record_id: int, record: R) -> None:
        for name, key_of in self._keys.items():
            key = key_of(record)
            ids = self._indexes[name].get(key)
            if ids is not None:
                ids.pop(record_id, None)
                if not ids:
                    del self._indexes[name][key]

    def __setitem__(self, record_id: int, record: R) -> None:
        old = self.get(record_id)
        if old is not None:
            self._drop(record_id, old)
        super().__setitem__(record_id, record)
        self._add(record_id, record)

    def __delitem__(self, record_id: int) -> None:
        old = self[record_id]
        super().__delitem__(record_id)
        self._drop(record_id, old)

    def pop(self, record_id: int, *default: Any) -> Any:
        if record_id not in self:
            if default:
                return default[0]
            raise KeyError(record_id)
        old = self[record_id]
        del self[record_id]
        return old

    def popitem(self) -> tuple[int, R]:
        record_id, record = super().popitem()
        self._drop(record_id, record)
        return record_id, record

    def setdefault(self, record_id: int, default: Any = None) -> Any:
        if record_id not in self:
            self[record_id] = default
        return self[record_id]

    def update(self, *args: Any, **kwargs: Any) -> None:
        items: Iterable[tuple[int, R]]
        for arg in args:
            items = arg.items() if isinstance(arg, Mapping) else arg
            for record_id, record in items:
                self[record_id] = record
        for name, record in kwargs.items():  # never int keys, kept for dict's signature
            self[name] = record  # type: ignore[index]

    def __ior__(self, other: Any) -> IndexedRecords[R]:  # type: ignore[override,misc]
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        for index in self._indexes.values():
            index.clear()
