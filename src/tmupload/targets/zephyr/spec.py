"""Zephyr Enterprise as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.options import OptionSpec
from tmupload.targets.shared_options import CYCLE, RELEASE, STATUS_MAP
from tmupload.targets.spec import TargetSpec

__all__ = ["SPEC"]

SPEC = TargetSpec(
    name="zephyr",
    title="Zephyr Enterprise",
    url_example="https://ze.example.com",
    options=(
        CYCLE,
        RELEASE,
        STATUS_MAP,
        OptionSpec(
            "repository_folder",
            "str",
            "Automation",
            "the top repository folder the test cases go under (the node id's path below it), "
            "segments by /",
        ),
    ),
    credentials=("token", "basic"),
    frozen=("url", "project", "release", "cycle", "status_map", "repository_folder"),
    preflight="tmupload.targets.zephyr.preflight:preflight",
    implementation="tmupload.targets.zephyr.target:ZephyrTarget",
    emulator="tmupload.targets.zephyr.emulator",
    check="tmupload.targets.zephyr.check:run_checks",
    demo="tmupload.targets.zephyr.demo:DEMO",
    required=("release",),
    run_per_upload=True,
    offer_missing="tmupload.targets.zephyr.placement:offer_releases",
)
