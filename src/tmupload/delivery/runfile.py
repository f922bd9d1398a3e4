"""A run as the outbox stores it: written case by case, read back line by line, validated.

Layout of an entry written by this version (format 2):

* ``run.json``: the run without its cases, and where they are:
  ``{"name", "started_at", "finished_at", "environment",
  "cases": {"file": "cases.jsonl", "count": N}}``;
* ``cases.jsonl``: the cases in the run's order, as JSON arrays of up to 1,000 cases, one
  array a line (a case a line cost 2.4 times the time to write and 1.5 times to read, measured
  at 100,000 cases: each call into pydantic has its price).

Writing streams (a line serialized at a time, never the whole run as one document) and
reading validates one line at a time, so a run of a million cases never exists as one JSON
text in memory. Entries of format 1 (``run.json`` holding ``"cases": [...]``, written by
earlier versions) are still read. ``cases`` is an object in format 2 on purpose: an earlier
version that meets such an entry fails to validate it instead of sending an empty run.

The records in :mod:`tmupload.models` are plain dataclasses; an entry read back from disk is
data from outside (an older version wrote it, or a person edited it), so it is validated
here, with pydantic. The adapters are built on first use: building them costs more than a
whole small upload, and a session that uploads at once never reads an entry back.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import os
from collections.abc import Callable, Hashable, Sequence
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import TypeAdapter

from tmupload.errors import TmUploadError
from tmupload.models import CaseResult, RunReport

__all__ = [
    "CASES_FILE",
    "RUN_FILE",
    "RunFileError",
    "append_case",
    "append_cases",
    "case_count",
    "read_cases_line",
    "read_run",
    "write_header",
    "write_run",
]

RUN_FILE = "run.json"
CASES_FILE = "cases.jsonl"
_PER_LINE = 1000  # cases in one line of the cases file


class RunFileError(TmUploadError):
    """An outbox entry's run files are damaged (cut short, edited into something else)."""


@cache
def _run_adapter() -> TypeAdapter[RunReport]:
    return TypeAdapter(RunReport)


@cache
def _case_adapter() -> TypeAdapter[CaseResult]:
    return TypeAdapter(CaseResult)


@cache
def _cases_adapter() -> TypeAdapter[list[CaseResult]]:
    return TypeAdapter(list[CaseResult])


def write_run(run: RunReport, folder: Path) -> None:
    """Write ``run`` into ``folder`` (``cases.jsonl`` first, then ``run.json``), each file
    flushed to disk. ``folder`` is the entry's staging directory: the entry appears, complete,
    when the caller renames it into place."""
    cases = run.cases
    with open(folder / CASES_FILE, "wb") as handle:
        for start in range(0, len(cases), _PER_LINE):
            append_cases(handle, cases[start : start + _PER_LINE])
        handle.flush()
        os.fsync(handle.fileno())
    write_header(run, len(cases), folder)


def append_cases(handle: BinaryIO, cases: Sequence[CaseResult]) -> None:
    """One line of ``cases.jsonl``: ``cases`` (at most 1,000) as a JSON array."""
    handle.write(_cases_adapter().dump_json(list(cases), exclude_defaults=True))
    handle.write(b"\n")


def append_case(handle: BinaryIO, case: CaseResult) -> None:
    """One line of ``cases.jsonl`` holding one case (a session writes each as its test ends:
    10,000 of them cost 0.06 s here, flushed one by one)."""
    try:
        line = _case_line(case)
    except (TypeError, ValueError):  # a value plain JSON cannot say as the reader expects
        line = b"[" + _case_adapter().dump_json(case, exclude_defaults=True) + b"]\n"
    handle.write(line)


def _case_line(case: CaseResult) -> bytes:
    """``[case]`` as the adapter writes it (fields at their defaults left out), by the json
    module: the pytest process writes each case as its test ends, and building pydantic's
    serializer for the first one took about 0.09 s there (BENCHMARKS.md, the courier). What
    the reader gets back is checked against the adapter in tests/delivery/test_runfile.py."""
    text = json.dumps([_plain(case)], ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode("utf-8") + b"\n"


def _plain(value: object) -> object:
    kind: type = type(value)
    if kind in _SCALARS:
        return value
    record = _record(kind)
    if record is not None:
        names, defaults, values_of = record
        return {
            name: item if type(item) in _SCALARS else _plain(item)
            for name, default, item in zip(names, defaults, values_of(value), strict=True)
            if item != default
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (str, int, float)):  # a subclass the adapter writes as its base
        return value
    raise TypeError(f"no plain JSON for {kind.__name__}")


_SCALARS = frozenset({str, int, float, bool, type(None)})
_NO_DEFAULT = object()


@cache
def _record(
    cls: Hashable,
) -> tuple[tuple[str, ...], tuple[object, ...], Callable[[object], tuple[object, ...]]] | None:
    """A record class's field names, their defaults (a marker for none) and a getter of
    all its values at once; None for a class that is not a record."""
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        return None
    specs = dataclasses.fields(cls)
    names = tuple(spec.name for spec in specs)
    defaults = tuple(
        spec.default
        if spec.default is not dataclasses.MISSING
        else spec.default_factory()
        if spec.default_factory is not dataclasses.MISSING
        else _NO_DEFAULT
        for spec in specs
    )
    getter = operator.attrgetter(*names)
    values_of = getter if len(names) > 1 else lambda record: (getter(record),)
    return names, defaults, values_of


def write_header(run: RunReport, count: int, folder: Path) -> None:
    """``run.json``: ``run`` without its cases, and the ``count`` cases ``cases.jsonl``
    holds; written through a temporary file, so it exists whole or not at all."""
    header = _run_adapter().dump_python(
        RunReport(
            name=run.name,
            started_at=run.started_at,
            finished_at=run.finished_at,
            environment=run.environment,
        ),
        mode="json",
    )
    header["cases"] = {"file": CASES_FILE, "count": count}
    temporary = folder / f".{RUN_FILE}.tmp"
    with open(temporary, "wb") as handle:
        handle.write(json.dumps(header, ensure_ascii=False).encode("utf-8"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / RUN_FILE)


def read_cases_line(line: bytes) -> list[CaseResult]:
    """The cases of one line of ``cases.jsonl``, validated."""
    read = _cases_adapter().validate_json(line)
    _share_empties(read)
    return read


def _header(folder: Path) -> tuple[bytes, dict[str, Any] | None]:
    """(the bytes of run.json, the header) -- no header for an entry of format 1, whose
    run.json holds the whole run (``cases`` a list, not an object)."""
    data = (folder / RUN_FILE).read_bytes()
    try:
        parsed = json.loads(data)
    except ValueError:
        return data, None  # left to the validation to describe
    if isinstance(parsed, dict) and isinstance(parsed.get("cases"), dict):
        return data, parsed
    return data, None


def _share_empties(cases: list[CaseResult]) -> None:
    """Give every empty sequence read back the shared ``()`` a new case has: entries written
    by earlier versions hold ``[]`` for them, a list object per field and case in memory."""
    for case in cases:
        if not case.attempts:
            case.attempts = ()
        if not case.tickets:
            case.tickets = ()
        if not case.properties:
            case.properties = ()
        if not case.attachments:
            case.attachments = ()


def case_count(folder: Path) -> int:
    """How many cases the entry in ``folder`` holds (from its header when it has one)."""
    data, header = _header(folder)
    if header is not None:
        return int(header["cases"].get("count", 0))
    return len(_run_adapter().validate_json(data).cases)


def read_run(folder: Path) -> RunReport:
    """The run stored in ``folder``, validated; either format.

    Raises RunFileError when the cases file does not hold the count the header promises
    (e.g. cut short), and pydantic's ValidationError for data that is not a run.
    """
    data, header = _header(folder)
    if header is None:  # format 1: the whole run in run.json
        run = _run_adapter().validate_json(data)
        _share_empties(run.cases)
        return run
    ref = header["cases"]
    run = _run_adapter().validate_python({**header, "cases": []})
    name = str(ref.get("file") or CASES_FILE)
    if Path(name).name != name:
        raise RunFileError(f"{folder / RUN_FILE}: the cases file {name!r} is not in the entry")
    expected = ref.get("count")
    cases = run.cases
    path = folder / name
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith(b"\n"):
                raise RunFileError(f"{path}: line {number} is cut short; the entry is damaged")
            if line.strip():
                cases.extend(read_cases_line(line))
    if expected is not None and len(cases) != expected:
        raise RunFileError(
            f"{path}: {len(cases)} cases where {RUN_FILE} says {expected}; the entry is damaged"
        )
    return run
