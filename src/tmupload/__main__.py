from __future__ import annotations

from tmupload.cli import main

raise SystemExit(main())
