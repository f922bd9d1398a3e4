from __future__ import annotations

import sys


def _courier() -> int:
    """Internal: the process a pytest session starts to deliver its run
    (delivery/courier.py)."""
    from tmupload.delivery.courier import main

    return main(sys.stdin, sys.stdout)


def _command() -> int:
    from tmupload.cli.app import main

    return main()


raise SystemExit(_courier() if sys.argv[1:2] == ["_courier"] else _command())
