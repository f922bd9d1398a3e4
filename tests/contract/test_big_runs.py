"""A big run on every target: 2,000 tests, a first upload (serial) and a second (``-n 2``),
against the emulators in their strictest reading of the servers' documents: every result lands
with its status, and no upload costs a request per test (at most 10 + N/50 requests)."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import Server, upload_args

COUNT = 2_000
#: Every FAIL_EVERY-th test fails.
FAIL_EVERY = 50

BIG = f"""
import pytest

@pytest.mark.parametrize("n", range({COUNT}))
def test_n(n):
    assert n % {FAIL_EVERY}
"""


def _budget(count: int) -> int:
    return 10 + count // 50


def _expected() -> dict[str, str]:
    return {
        f"test_big.py::test_n[{n}]": "failed" if n % FAIL_EVERY == 0 else "passed"
        for n in range(COUNT)
    }


def test_a_big_run_lands_whole_twice_within_the_request_budget(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_big=BIG)
    failed = COUNT // FAIL_EVERY
    # Output attachments cost a request per failing test's file on some servers: left out
    # here, where the request count is the point.
    args = upload_args(server, outbox, "--tm-attach", "none", "-q", "--tb=no")
    spent: list[int] = []
    for workers in ([], ["-n", "2"]):
        before = len(server.emulator.requests)  # type: ignore[attr-defined]
        result = pytester.runpytest_subprocess(*args, *workers)
        result.assert_outcomes(passed=COUNT - failed, failed=failed)
        assert result.ret == 1  # the tests' own failures; the upload itself went through
        result.stdout.fnmatch_lines([f"*tmupload: uploaded {COUNT} results to {server.title}*"])
        spent.append(len(server.emulator.requests) - before)  # type: ignore[attr-defined]
        assert server.landed() == _expected()
    assert server.uploads() == 2
    print(f"{server.target}: requests per upload (first, second): {spent}")
    assert max(spent) <= _budget(COUNT), f"requests per upload (first, second): {spent}"
