"""The tests come first: the courier that delivers a session's run yields the CPU to them
(on a machine whose cores the xdist workers fill, it would otherwise delay the tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="reads the processes from /proc (Linux)"
)

SUITE = """
import os
from pathlib import Path


def _children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_the_courier_runs_below_the_tests():
    couriers = [
        child
        for child in _children(os.getpid())
        if b"_courier" in Path(f"/proc/{child}/cmdline").read_bytes()
    ]
    assert len(couriers) == 1, couriers
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, couriers[0]) > mine
"""


def test_the_courier_yields_the_cpu_to_the_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "pw")
    pytester.makepyfile(test_priority=SUITE)
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--tm-upload",
        "--tm-dry-run",
        "--tm-url",
        "http://127.0.0.1:9/ET",
        "--tm-project",
        "P",
        "--tm-user",
        "u",
    )
    result.assert_outcomes(passed=1)
