"""Bulk calls in bounded batches, halved when the server says a batch is too big.

Every bulk write is cut to at most a server's batch size before it is sent
(docs/architecture.md §11: "every bulk call bounded"). A server may still hold a smaller limit than
the one we know of: a 413, or a 400 whose message speaks of a limit ("at most 500", "too many
items"), halves the batch and sends both halves, down to one item. Any other refusal is raised as it
came.

What each half sends is a write of its own: the callers find out what landed the way they
already do for a lost answer (a read before writing again, or a journal of done batches), so
halving neither repeats nor skips an item.

Batches that may overlap go through :func:`first_alone_then_pool`: the first alone finds out
what the server takes (whether it has a call at all, how big a batch it accepts), the rest
then go several at a time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from tmupload.errors import ServerError

__all__ = [
    "chunks",
    "first_alone_then_pool",
    "in_pool",
    "in_pool_telling",
    "refused_as_too_big",
    "send_halving",
]

T = TypeVar("T")
R = TypeVar("R")

#: Words of a refusal that is about the size of the request, not its content.
_LIMIT_WORDS = re.compile(
    r"at most|too (?:many|large|big|long)|limit|exceed|maximum|max\b|payload", re.IGNORECASE
)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in slices of at most ``size``."""
    if size < 1:
        raise ValueError("a batch holds at least one item")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def refused_as_too_big(exc: BaseException) -> bool:
    """A 413, or a 400 whose message speaks of a limit."""
    if not isinstance(exc, ServerError) or exc.status not in (400, 413):
        return False
    if exc.status == 413:
        return True
    return bool(_LIMIT_WORDS.search(f"{exc.server_message or ''} {exc}"))


def send_halving(
    send: Callable[[list[T]], R],
    items: list[T],
    on_halve: Callable[[int], None] | None = None,
) -> list[R]:
    """``send(items)``; when that is refused as too big, each half the same way, in order.
    ``on_halve(count)`` is told the size of each batch that was halved."""
    try:
        return [send(items)]
    except ServerError as exc:
        if len(items) < 2 or not refused_as_too_big(exc):
            raise
    if on_halve is not None:
        on_halve(len(items))
    middle = len(items) // 2
    return [
        *send_halving(send, items[:middle], on_halve),
        *send_halving(send, items[middle:], on_halve),
    ]


def in_pool(work: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    """``work`` on each item, in order of the items; ``concurrency`` at a time when there
    are two items or more (one by one on this thread otherwise)."""
    if len(items) < 2 or concurrency < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items))) as pool:
        return list(pool.map(work, items))


def in_pool_telling(
    work: Callable[[T], R],
    items: Sequence[T],
    concurrency: int,
    tell: Callable[[int], None],
    every: int = 50,
) -> list[R]:
    """``in_pool``, calling ``tell(finished)`` each time another ``every`` items are done
    (not at the last item): a long pool says how far it is, in order of the counts."""
    lock = threading.Lock()
    finished = 0

    def counted(item: T) -> R:
        nonlocal finished
        result = work(item)
        with lock:
            finished += 1
            if finished % every == 0 and finished < len(items):
                tell(finished)
        return result

    return in_pool(counted, items, concurrency)


def first_alone_then_pool(work: Callable[[T], R], items: Sequence[T], concurrency: int) -> list[R]:
    """``work`` on each item, in order of the items: the first alone (it finds out what the
    server takes), then the rest ``concurrency`` at a time. Each item is a write of its own:
    one whose answer is lost is found by the read that follows, whichever thread sent it."""
    if not items:
        return []
    first = work(items[0])
    return [first, *in_pool(work, items[1:], concurrency)]
