"""qTest Manager as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.targets.shared_options import CYCLE, RELEASE, STATUS_MAP
from tmupload.targets.spec import TargetSpec, parts_in

__all__ = ["SPEC"]

SPEC = TargetSpec(
    name="qtest",
    title="qTest Manager",
    url_example="https://acme.qtestnet.com",
    options=(CYCLE, RELEASE, STATUS_MAP),
    credentials=("token", "basic"),
    frozen=("url", "project", "cycle", "release", "status_map"),
    **parts_in("tmupload.targets.qtest", "QTestTarget"),
)
