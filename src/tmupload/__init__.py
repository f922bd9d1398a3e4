"""pytest-tmupload: send test results to test-management servers and link failures to tickets.

The public API is small on purpose; everything else is private and may change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tmupload._version import __version__

if TYPE_CHECKING:
    from tmupload.delivery.pipeline import UploadOutcome, upload
    from tmupload.errors import TmUploadError
    from tmupload.models import CaseResult, Outcome, RunReport
    from tmupload.settings import Settings

__all__ = [
    "CaseResult",
    "Outcome",
    "RunReport",
    "Settings",
    "TmUploadError",
    "UploadOutcome",
    "__version__",
    "upload",
]

# Loaded on first use: the pytest11 entry point imports this package on every pytest run.
_LAZY = {
    "CaseResult": "tmupload.models",
    "Outcome": "tmupload.models",
    "RunReport": "tmupload.models",
    "Settings": "tmupload.settings",
    "TmUploadError": "tmupload.errors",
    "UploadOutcome": "tmupload.delivery.pipeline",
    "upload": "tmupload.delivery.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tmupload' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
