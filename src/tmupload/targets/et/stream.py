"""ET's share of the work done while the tests run (``CaseStream``, targets/base.py).

ET takes one document per run, so nothing can be sent before the session end. What can be
done earlier is writing it: each case's ``<testcase>`` element is written as its test ends
(payload.case_fragment), on the main thread, which under xdist is the controller's, idle
while the workers run the tests. ``deliver`` writes the document around those pieces and
writes again any case that changed since (a ticket map, a later result for the same id) or
whose name in the document differs (a duplicated name numbered ``#2``): the run it receives
is the truth, and the document is the same bytes either way.
"""

from __future__ import annotations

import logging
from typing import Any

from tmupload.models import CaseResult
from tmupload.targets.et.payload import case_fragment, fingerprint, node_name

__all__ = ["MAX_KEPT", "EtStream"]

log = logging.getLogger("tmupload.et")

#: Cases whose elements are kept; past that, deliver writes the rest itself (memory bound).
MAX_KEPT = 200_000


class EtStream:
    """The CaseStream of the ET target (see the module docstring)."""

    def __init__(self) -> None:
        self.pieces: dict[str, tuple[tuple[Any, ...], str, str]] = {}

    def add(self, case: CaseResult) -> None:
        if len(self.pieces) >= MAX_KEPT and case.case_id not in self.pieces:
            return
        try:
            name = node_name(case)
            self.pieces[case.case_id] = (fingerprint(case), name, case_fragment(case, name))
        except Exception:  # never break the session: deliver writes this case itself
            log.debug("writing the element of %s ahead failed", case.case_id, exc_info=True)

    def end(self) -> None:
        """Nothing runs in the background: the pieces are ready."""
