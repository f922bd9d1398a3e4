"""A run as the outbox stores it: JSON in, JSON out, validated on the way in.

The records in :mod:`tmupload.models` are plain dataclasses; an entry read back from disk is
data from outside (an older version wrote it, or a person edited it), so it is validated
here, once, with pydantic. The adapter is built on first use: building it costs more than a
whole small upload, and a session that uploads at once never reads an entry back.
"""

from __future__ import annotations

from functools import cache

from pydantic import TypeAdapter

from tmupload.models import RunReport

__all__ = ["dump_run", "load_run"]


@cache
def _adapter() -> TypeAdapter[RunReport]:
    return TypeAdapter(RunReport)


def dump_run(run: RunReport) -> bytes:
    return _adapter().dump_json(run)


def load_run(data: bytes) -> RunReport:
    return _adapter().validate_json(data)
