"""Zephyr Enterprise as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.options import OptionSpec
from tmupload.targets.shared_options import CYCLE, RELEASE, STATUS_MAP
from tmupload.targets.spec import TargetSpec, parts_in

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
    **parts_in("tmupload.targets.zephyr", "ZephyrTarget"),
    required=("release",),
    run_per_upload=True,
    offer_missing="tmupload.targets.zephyr.placement:offer_releases",
)
