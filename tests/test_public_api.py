"""The public surface stays small, and the pytest11 entry point stays light."""

from __future__ import annotations

import subprocess
import sys

import tmupload


def test_exported_members() -> None:
    assert sorted(tmupload.__all__) == sorted(
        [
            "CaseResult",
            "Outcome",
            "RunReport",
            "Settings",
            "TmUploadError",
            "UploadOutcome",
            "__version__",
            "upload",
        ]
    )
    for name in tmupload.__all__:
        assert getattr(tmupload, name) is not None
    assert tmupload.TmUploadError.__module__ == "tmupload.errors"


def test_plugin_import_pulls_in_no_network_or_model_stack() -> None:
    # The entry point loads on every pytest run in the environment, upload on or off.
    code = (
        "import sys, tmupload.plugin; "
        "heavy = [m for m in ('httpx', 'pydantic', 'stamina', 'junitparser') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
