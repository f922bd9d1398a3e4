"""Enterprise Tester as a target: its settings and needs (plain data, light to import)."""

from __future__ import annotations

from tmupload.options import OptionSpec
from tmupload.targets.spec import TargetSpec, parts_in

__all__ = ["SPEC"]

SPEC = TargetSpec(
    name="et",
    title="Enterprise Tester",
    url_example="https://et.example.com/EnterpriseTester",
    options=(
        OptionSpec(
            "script_package",
            "str",
            "Automated Tests",
            "script package path for the automated test, segments separated by /",
        ),
        OptionSpec("automated_test", "str", "pytest", "name of the automated test in ET"),
        OptionSpec(
            "execution_package",
            "str",
            "Automated Runs",
            "execution package path for the assignment, segments separated by /",
        ),
    ),
    credentials=("basic",),
    frozen=("url", "project", "script_package", "automated_test", "execution_package"),
    **parts_in("tmupload.targets.et", "EtTarget"),
    run_per_upload=True,
)
