from __future__ import annotations

from tmupload.cli.app import main

raise SystemExit(main())
