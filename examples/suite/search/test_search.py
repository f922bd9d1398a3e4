import sys

import pytest

pytestmark = pytest.mark.ticket("DEMO-1")


def test_search_finds_exact_title():
    assert "tmupload".startswith("tm")


def test_search_ranks_recent_first():
    print("ranking: [3, 1, 2]")
    assert sorted([3, 1, 2]) == [3, 1, 2], "results are not ordered by date"


@pytest.mark.skipif(sys.platform != "win32", reason="needs the Windows search service")
def test_windows_index():
    pass


@pytest.mark.xfail(reason="fuzzy matching not implemented (DEMO-2)")
def test_fuzzy_match():
    assert "serch" == "search"


@pytest.mark.xfail(reason="was slow on old hardware")
def test_unexpectedly_fast():
    assert True
