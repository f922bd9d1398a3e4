from __future__ import annotations

import contextlib
import os
import sys

#: How much the courier yields the CPU to the tests (POSIX ``nice``).
COURIER_NICENESS = 10


def _courier() -> int:
    """Internal: the process a pytest session starts to deliver its run
    (delivery/courier.py)."""
    # The tests come first: on a machine whose cores the xdist workers fill, the courier's
    # start-up and streaming would otherwise take CPU from them (the first test started up
    # to 0.5 s later, BENCHMARKS.md). Once the tests are over nothing competes, so a lower
    # priority costs the delivery nothing then; before, it only defers what may wait.
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(COURIER_NICENESS)
    from tmupload.delivery.courier import main

    return main(sys.stdin, sys.stdout)


def _command() -> int:
    from tmupload.cli.app import main

    return main()


raise SystemExit(_courier() if sys.argv[1:2] == ["_courier"] else _command())
