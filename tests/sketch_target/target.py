from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tmupload.errors import ServerUnavailable
from tmupload.linking import LinkRequest, link_all, link_requests
from tmupload.models import CaseResult, RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Delivery, Journal, LinkResult, Progress, ResultRef, RunRef

#: Set to make the next deliveries fail as an unreachable server would.
FAIL_ENV = "SKETCH_FAIL"


class SketchTarget:
    def __init__(self, settings: Settings, *, transport: Any = None, progress: Progress) -> None:
        self.settings = settings
        self.progress = progress
        self.log = Path(settings.option("sketch_log"))

    def _record(self, call: str, **data: Any) -> None:
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"call": call, **data}) + "\n")

    def stream(self, *, may_send: bool) -> SketchStream:
        self._record("stream_open", may_send=may_send)
        return SketchStream(self._record)

    def describe(self) -> str:
        return f"{self.settings.url} project {self.settings.project!r} (sketch)"

    def plan(self, run: RunReport) -> Delivery:
        self._record("plan", cases=len(run.cases))
        return Delivery(target="Sketch Server", plan=[f"would send {len(run.cases)} results"])

    def deliver(self, run: RunReport, journal: Journal) -> Delivery:
        if os.environ.get(FAIL_ENV):
            raise ServerUnavailable("the sketch server is down (SKETCH_FAIL)")
        sent = journal.done("sent")
        if sent is None:
            journal.declare("sent", {"cases": len(run.cases)})
            self._record("send", run=run.name, cases=[case.case_id for case in run.cases])
            sent = {"run_id": f"run-{len(run.cases)}"}
            journal.finish("sent", sent)

        def link_one(request: LinkRequest) -> LinkResult:
            self._record("link", case=request.case_id, key=request.key)
            return LinkResult(request.case_id, request.key, "linked")

        links = link_all(
            link_requests(run, self.settings),
            link_one,
            journal,
            concurrency=2,
            progress=self.progress,
        )
        counts = run.counts()
        return Delivery(
            target="Sketch Server",
            run=RunRef(id=sent["run_id"], url=f"{self.settings.url}/runs/{sent['run_id']}"),
            totals={"passed": counts["passed"], "failed": counts["failed"]},
            results={case.case_id: ResultRef(f"r{i}") for i, case in enumerate(run.cases)},
            links=links,
        )


class SketchStream:
    """Records every case it is given as the tests end, and the end of the tests."""

    def __init__(self, record: Any) -> None:
        self._record = record

    def add(self, case: CaseResult) -> None:
        self._record("streamed", case=case.case_id, outcome=case.outcome.value)

    def end(self) -> None:
        self._record("stream_end")
