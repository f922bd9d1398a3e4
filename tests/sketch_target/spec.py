from __future__ import annotations

from tmupload.options import OptionSpec
from tmupload.targets.spec import TargetSpec

SPEC = TargetSpec(
    name="sketch",
    title="Sketch Server",
    options=(OptionSpec("sketch_log", "path", None, "file the sketch target records calls in"),),
    credentials=("token",),
    frozen=("url", "project", "sketch_log"),
    implementation="sketch_target.target:SketchTarget",
    required=("sketch_log",),
)
