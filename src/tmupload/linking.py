"""Which (case, ticket key) pairs to link, and running the links with journaled progress.

One policy for every target: the keys come from ``@pytest.mark.ticket`` (or a JUnit
property), the ticket map and ``--tm-link-failures``; ``--tm-link-on`` says which outcomes are
linked and ``--tm-no-link`` turns linking off. A target supplies only how to link one pair.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tmupload.errors import ServerError
from tmupload.models import RunReport
from tmupload.settings import Settings
from tmupload.targets.base import Journal, LinkResult, Progress
from tmupload.targets.batching import in_pool_telling

__all__ = ["FINAL_LINK_STATUSES", "LinkRequest", "link_all", "link_requests"]

#: A pair with one of these statuses is never tried again on a resend.
FINAL_LINK_STATUSES = ("linked", "already_linked", "noted", "unknown_ticket")
_JOURNAL_KIND = "links"


@dataclass(frozen=True)
class LinkRequest:
    case_id: str
    key: str
    # The defect tracker the key lives in, as the user named it (only some servers need it).
    system: str | None = None

    @property
    def journal_key(self) -> str:
        return f"{self.case_id}\x00{self.key}"


def link_requests(run: RunReport, settings: Settings) -> list[LinkRequest]:
    """Every pair the settings ask to link, in the run's order, each once."""
    if settings.no_link:
        return []
    requests: list[LinkRequest] = []
    for case in run.cases:
        if case.outcome.value not in settings.link_on:
            continue
        keys = [(ticket.key, ticket.external_system_link) for ticket in case.tickets]
        extra = settings.link_failures
        if extra and case.outcome.is_failure and extra not in {key for key, _ in keys}:
            keys.append((extra, None))
        requests.extend(LinkRequest(case.case_id, key, system) for key, system in keys)
    return requests


def link_all(
    requests: Sequence[LinkRequest],
    link_one: Callable[[LinkRequest], LinkResult],
    journal: Journal,
    *,
    concurrency: int,
    progress: Progress,
) -> list[LinkResult]:
    """Link every pair not finished before, ``concurrency`` at a time; journal each at once.

    A ServerError for one pair fails that pair only; the others go on.
    """
    done = journal.items(_JOURNAL_KIND)
    results: dict[str, LinkResult] = {}
    todo: list[LinkRequest] = []
    for request in requests:
        previous = done.get(request.journal_key)
        if previous and previous.get("status") in FINAL_LINK_STATUSES:
            results[request.journal_key] = LinkResult(
                request.case_id, request.key, previous["status"], previous.get("reason", "")
            )
        else:
            todo.append(request)
    if todo:
        progress(f"linking {len(todo)} ticket(s)")

        def safely(request: LinkRequest) -> LinkResult:
            try:
                result = link_one(request)
            except ServerError as exc:
                result = LinkResult(request.case_id, request.key, "failed", str(exc))
            journal.item_done(
                _JOURNAL_KIND,
                request.journal_key,
                {"status": result.status, "reason": result.reason},
            )
            return result

        def tell(finished: int) -> None:
            progress(f"linked {finished} of {len(todo)} ticket(s)")

        linked = in_pool_telling(safely, todo, concurrency, tell)
        for request, result in zip(todo, linked, strict=True):
            results[request.journal_key] = result
    return [results[request.journal_key] for request in requests]
