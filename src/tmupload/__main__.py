from __future__ import annotations

import sys

if sys.argv[1:2] == ["_courier"]:
    # Internal: the process a pytest session starts to deliver its run (delivery/courier.py).
    from tmupload.delivery.courier import main as courier

    raise SystemExit(courier(sys.stdin, sys.stdout))

from tmupload.cli.app import main

raise SystemExit(main())
