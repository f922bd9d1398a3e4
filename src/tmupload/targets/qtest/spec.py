"""qTest Manager as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.targets.shared_options import CYCLE, RELEASE, STATUS_MAP
from tmupload.targets.spec import TargetSpec

__all__ = ["SPEC"]

SPEC = TargetSpec(
    name="qtest",
    title="qTest Manager",
    url_example="https://acme.qtestnet.com",
    options=(CYCLE, RELEASE, STATUS_MAP),
    credentials=("token", "basic"),
    frozen=("url", "project", "cycle", "release", "status_map"),
    preflight="tmupload.targets.qtest.preflight:preflight",
    implementation="tmupload.targets.qtest.target:QTestTarget",
    emulator="tmupload.targets.qtest.emulator",
    check="tmupload.targets.qtest.check:run_checks",
    demo="tmupload.targets.qtest.demo:DEMO",
)
