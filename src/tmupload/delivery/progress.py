"""What the person waiting sees while an upload runs: the phase, counts, retries and time.

On a terminal one line updates in place; elsewhere (CI logs) each phase is a plain line;
under ``-q`` only trouble (a retry and its reason) is shown. Retries come through
:meth:`UploadProgress.trouble`, which targets hand to their HTTP client.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["ProgressRelay", "UploadProgress"]


class UploadProgress:
    def __init__(
        self,
        write_line: Callable[[str], None],
        rewrite: Callable[[str], None] | None = None,
        *,
        quiet: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write_line = write_line
        self._rewrite = rewrite  # None: not a terminal, so no updating line
        self._quiet = quiet
        self._clock = clock
        self._started = clock()
        self._showing = False

    def _stamp(self, message: str) -> str:
        return f"tmupload: {message} [{self._clock() - self._started:.1f}s]"

    def __call__(self, message: str) -> None:
        """A new phase or count ("uploading 2,000 results")."""
        if self._rewrite is not None and not self._quiet:
            self._rewrite(self._stamp(message))
            self._showing = True
        elif not self._quiet:
            self._write_line(self._stamp(message))

    def trouble(self, message: str) -> None:
        """Something a person should see even under -q (a retry and why)."""
        self.done()
        self._write_line(self._stamp(message))

    def done(self) -> None:
        """Clear the updating line before the summary is written."""
        if self._showing and self._rewrite is not None:
            self._rewrite("")
            self._showing = False


class ProgressRelay:
    """Progress for a target built when pytest starts: silent until the upload begins, then
    relayed to the :class:`UploadProgress` the session end sets (the terminal is ready then)."""

    def __init__(self) -> None:
        self.to: UploadProgress | None = None

    def __call__(self, message: str) -> None:
        if self.to is not None:
            self.to(message)

    def trouble(self, message: str) -> None:
        if self.to is not None:
            self.to.trouble(message)
