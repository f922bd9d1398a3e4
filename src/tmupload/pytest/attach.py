"""The ``tm_attach`` fixture: attach a file, or bytes, to this test's result on the server.

The file is copied at once into pytest's temporary folder (so a file the test deletes, or a
buffer it reuses, still goes), and declared as a user property: it travels with the report to
the xdist controller, which copies it into the outbox when the run is spooled.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tmupload.properties import FIXTURE_PROPERTY

__all__ = ["Attach", "tm_attach"]

Attach = Callable[..., Path]


@pytest.fixture
def tm_attach(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Attach:
    """``tm_attach(path_or_bytes, name=None, content_type=None)`` attaches a file to this
    test's result (a screenshot, a HAR file, a log); returns the path of the copy."""
    item = request.node

    def attach(
        data: bytes | bytearray | str | os.PathLike[str],
        name: str | None = None,
        content_type: str | None = None,
    ) -> Path:
        folder = tmp_path_factory.mktemp("tmupload-attachment", numbered=True)
        if isinstance(data, (bytes, bytearray)):
            target = folder / (name or "attachment.bin")
            target.write_bytes(bytes(data))
        else:
            source = Path(data)
            if not source.is_file():
                raise FileNotFoundError(
                    f"tm_attach: {source} is not a file; pass the path of a file that exists, "
                    "or its bytes"
                )
            target = folder / (name or source.name)
            shutil.copyfile(source, target)
        declared = {"path": str(target), "name": target.name, "content_type": content_type}
        item.user_properties.append((FIXTURE_PROPERTY, json.dumps(declared)))
        return target

    return attach
