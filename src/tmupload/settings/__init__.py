"""Settings, resolved and validated once for every front end.

:func:`resolve` reads them, flag > environment > ini/pyproject > default (``sources.py``, the
only place precedence is implemented); :class:`Settings` is what every part of a run reads
(``model.py``). The names of every option live in ``options.py`` and in each target's spec.
"""

from __future__ import annotations

from tmupload.settings.model import DEFAULT_OUTBOX, Settings
from tmupload.settings.sources import resolve

__all__ = ["DEFAULT_OUTBOX", "Settings", "resolve"]
