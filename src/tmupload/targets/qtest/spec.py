"""qTest Manager as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.options import OptionSpec
from tmupload.targets.spec import TargetSpec

__all__ = ["CYCLE", "RELEASE", "SPEC", "STATUS_MAP"]

# Shared with Zephyr Enterprise (same names, kinds and defaults: one flag for both).
CYCLE = OptionSpec(
    "cycle",
    "str",
    "Automation",
    "test cycle the results go under, found or created (qTest: a path, segments by /)",
)
RELEASE = OptionSpec(
    "release", "str", None, "release the cycle sits under (Zephyr: required; name or id)"
)
STATUS_MAP = OptionSpec(
    "status_map",
    "str",
    None,
    "outcome=STATUS pairs, comma separated (qTest: automation status strings; Zephyr: "
    "status names or ids from the server's list)",
)

SPEC = TargetSpec(
    name="qtest",
    title="qTest Manager",
    options=(CYCLE, RELEASE, STATUS_MAP),
    credentials=("token", "basic"),
    frozen=("url", "project", "cycle", "release", "status_map"),
    preflight="tmupload.targets.qtest.preflight:preflight",
    implementation="tmupload.targets.qtest.target:QTestTarget",
    emulator="tmupload.targets.qtest.emulator",
    check="tmupload.targets.qtest.check:run_checks",
    demo="tmupload.targets.qtest.demo:DEMO",
)
