"""A long pool of attachments or links says how far it is: every 50 done, never at the last."""

from __future__ import annotations

from tmupload.targets.batching import in_pool_telling


def test_a_pool_tells_every_fifty_done_in_order_and_keeps_the_items_order() -> None:
    told: list[int] = []

    results = in_pool_telling(lambda n: n * 2, list(range(150)), 4, told.append)

    assert results == [n * 2 for n in range(150)]
    assert told == [50, 100]  # not at 150: the last one


def test_a_short_pool_says_nothing() -> None:
    told: list[int] = []

    assert in_pool_telling(str, [1, 2, 3], 1, told.append) == ["1", "2", "3"]
    assert told == []
