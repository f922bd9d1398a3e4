"""What reading JUnit files yields besides the run: duplicates, per-file summaries, progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tmupload.models import RunReport

__all__ = ["Duplicate", "FileSummary", "ImportResult", "ProgressCallback", "ReadProgress"]


@dataclass(frozen=True)
class Duplicate:
    """A case id met more than once: every file it came from, in reading order."""

    case_id: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class FileSummary:
    """What one file contributed to the run."""

    path: Path
    cases: int
    counts: dict[str, int]


@dataclass
class ImportResult:
    """The merged run plus what a user should hear about the inputs."""

    run: RunReport
    duplicates: list[Duplicate] = field(default_factory=list)
    files: list[FileSummary] = field(default_factory=list)
    merged: int = 0  # pytest call-failure + teardown-error pairs folded into one case


@dataclass(frozen=True)
class ReadProgress:
    """Where reading stands, sent at the start and end of each file and every few cases."""

    path: Path
    file_number: int  # 1-based
    file_count: int
    cases: int  # cases read from this file so far
    bytes_read: int
    file_size: int
    done: bool = False


ProgressCallback = Callable[[ReadProgress], None]
