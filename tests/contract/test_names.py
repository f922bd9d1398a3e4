"""Names and notes on every server read as a person wrote them: real pytest sessions
(subprocess) uploading to each target's emulator over a loopback socket."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import Server, upload_args

AMOUNTS = """
import pytest

@pytest.mark.parametrize("text", ["€1 000,00", "café", "tab\\there"])
def test_amount_formats(text):
    pass
"""

TWO_CLASSES = """
class TestCart:
    def test_total(self):
        pass

class TestInvoice:
    def test_total(self):
        pass

def test_total():
    pass
"""

KEPT = """
import pytest

@pytest.mark.parametrize("text", ["€", "\\\\u20ac"])
def test_kept(text):
    pass
"""

FAILING = """
def test_pass():
    pass

def test_total():
    assert 1 + 1 == 3
"""


def test_a_non_ascii_parameter_id_reads_as_written(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_amounts=AMOUNTS)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox))
    result.assert_outcomes(passed=3)
    # pytest's node ids escape the non-ASCII (test_amount_formats[\u20ac1 000,00]); the
    # names on the server do not, and an ASCII escape stays as pytest wrote it.
    assert sorted(server.names()) == [
        "test_amount_formats[caf\u00e9]",
        "test_amount_formats[tab\\there]",
        "test_amount_formats[\u20ac1 000,00]",
    ]
    # The identity is still the node id.
    assert set(server.landed()) == {
        "test_amounts.py::test_amount_formats[\\u20ac1 000,00]",
        "test_amounts.py::test_amount_formats[caf\\xe9]",
        "test_amounts.py::test_amount_formats[tab\\there]",
    }


def test_ids_pytest_did_not_escape_are_shown_as_they_are(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_kept=KEPT)
    option = "disable_test_id_escaping_and_forfeit_all_rights_to_community_support=true"
    result = pytester.runpytest_subprocess(*upload_args(server, outbox), "-o", option)
    result.assert_outcomes(passed=2)
    # The node ids hold the test's own text: a backslash in it is not pytest's escaping.
    assert sorted(server.names()) == ["test_kept[\\u20ac]", "test_kept[\u20ac]"]


def test_two_classes_with_one_test_name_read_apart(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_billing=TWO_CLASSES)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox))
    result.assert_outcomes(passed=3)
    assert sorted(server.names()) == [
        "TestCart::test_total",
        "TestInvoice::test_total",
        "test_total",
    ]
    assert set(server.landed()) == {
        "test_billing.py::TestCart::test_total",
        "test_billing.py::TestInvoice::test_total",
        "test_billing.py::test_total",
    }


def test_a_failure_note_under_xdist_starts_with_the_failure(
    pytester: pytest.Pytester, server: Server, outbox: Path
) -> None:
    pytester.makepyfile(test_notes=FAILING)
    result = pytester.runpytest_subprocess(*upload_args(server, outbox), "-n", "2")
    result.assert_outcomes(passed=1, failed=1)
    note = server.notes()["test_notes.py::test_total"]
    # Not xdist's "[gw0] linux -- Python 3.x /path/to/python" line, anywhere in it.
    assert not [line for line in note.splitlines() if line.startswith("[gw")], note
    assert "-- Python" not in note
    # The traceback itself, as a serial session gives it, right after the one-line message
    # (qTest, Zephyr) or first (ET: the message is the node's description).
    traceback = note.split("\n", 1)[1] if server.target != "et" else note
    assert traceback.startswith("def test_total():"), note
    assert "assert (1 + 1) == 3" in note
