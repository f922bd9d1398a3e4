"""The names a case gets from its pytest node id: pytest's escaping of parameter ids undone."""

from __future__ import annotations

import pytest
from _pytest.compat import ascii_escaped

from tmupload.models import CaseResult, Outcome, shown_name, unescape_test_id
from tmupload.pytest.fold import split_nodeid


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("€1 000,00", "€1 000,00"),
        ("café", "café"),
        ("\U0001f600", "\U0001f600"),  # beyond the BMP: \U0001f600
        ("1\xa0000", "1\xa0000"),  # a no-break space is a space a person reads
        ("1\u202f000", "1\u202f000"),
        ("plain", "plain"),
        # ASCII escapes stay as pytest wrote them.
        ("a\nb\tc", "a\\nb\\tc"),
        ("nul\x00", "nul\\x00"),
        # A backslash of the id itself: pytest doubled it; ``\\u20ac`` is not a euro sign.
        ("\\u20ac", "\\\\u20ac"),
        ("€\\", "€\\\\"),
        # Invisible characters, and ones that break a line, stay escaped.
        ("\x85", "\\x85"),
        ("\u2028", "\\u2028"),
        ("\u200b", "\\u200b"),
        ("\ud800", "\\ud800"),
    ],
)
def test_pytest_escaping_is_undone_for_what_a_person_reads(value: str, shown: str) -> None:
    escaped = ascii_escaped(value)  # what pytest puts in the node id
    assert unescape_test_id(f"Test::test_x[{escaped}]") == f"Test::test_x[{shown}]"


def test_only_the_parameter_ids_are_unescaped() -> None:
    assert unescape_test_id("test_x") == "test_x"
    assert unescape_test_id("test_\\xe9") == "test_\\xe9"  # no parameters: nothing to undo
    assert unescape_test_id("test_x[\\xe9][\\xe9]") == "test_x[é][é]"


def test_split_nodeid_names_a_case_with_readable_ids_unless_pytest_kept_them() -> None:
    nodeid = "tests/test_money.py::TestFormat::test_amount[\\u20ac1 000,00]"
    assert split_nodeid(nodeid) == (
        "tests/test_money.py",
        "TestFormat::test_amount[€1 000,00]",
        "tests.test_money.TestFormat",
    )
    # disable_test_id_escaping_and_forfeit_all_rights_to_community_support: the id is the
    # test's own text, backslashes and all.
    assert split_nodeid(nodeid, ids_escaped=False)[1] == "TestFormat::test_amount[\\u20ac1 000,00]"


def _case(case_id: str, suite: str, name: str) -> CaseResult:
    return CaseResult(case_id=case_id, suite=suite, name=name, outcome=Outcome.PASSED)


def test_the_shown_name_is_the_cases_name_or_its_ids_rest() -> None:
    # A pytest case: its name is the node id's rest, ids unescaped.
    case = _case("t.py::TestA::test_x[\\xe9]", "t.py", "TestA::test_x[é]")
    assert shown_name(case, "TestA::test_x[\\xe9]") == "TestA::test_x[é]"
    # Spooled by an earlier version (name = the rest as it was), or unescaping turned off.
    old = _case("t.py::test_x[\\xe9]", "t.py", "test_x[\\xe9]")
    assert shown_name(old, "test_x[\\xe9]") == "test_x[\\xe9]"
    # An imported duplicate: its id says "#2", its name does not.
    twin = _case("suite::cls::test_x #2", "suite", "cls::test_x")
    assert shown_name(twin, "cls::test_x #2") == "cls::test_x #2"
