"""Settings that more than one target declares, defined once: two targets that take the same
setting share one flag, so its kind and default must be the same for both (the registry checks
it). qTest Manager and Zephyr Enterprise both file results under a cycle in a release."""

from __future__ import annotations

from tmupload.options import OptionSpec

__all__ = ["CYCLE", "RELEASE", "STATUS_MAP"]

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
