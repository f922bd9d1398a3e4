"""Folding real pytest reports (from pytester sessions) into one CaseResult per test."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tmupload.models import Outcome, RunReport, bound
from tmupload.pytest.fold import RunBuilder, split_nodeid

OUTCOMES_SUITE = """
import pytest

@pytest.fixture
def broken():
    raise RuntimeError("setup exploded")

@pytest.fixture
def bad_teardown():
    yield
    raise RuntimeError("teardown exploded")

def test_pass():
    print("hello stdout")

def test_fail():
    assert 1 == 2, "numbers differ"

def test_setup_error(broken):
    pass

def test_teardown_error(bad_teardown):
    pass

def test_fail_and_teardown_error(bad_teardown):
    assert False, "call failed"

def test_skip_in_body():
    pytest.skip("not today")

@pytest.mark.skip(reason="marker skip")
def test_skip_marker():
    pass

@pytest.mark.xfail(reason="known bug")
def test_xfail():
    assert False

@pytest.mark.xfail(reason="maybe")
def test_xpass():
    pass

@pytest.mark.xfail(reason="strictly broken", strict=True)
def test_xpass_strict():
    pass

@pytest.mark.xfail(reason="not run", run=False)
def test_xfail_not_run():
    pass
"""


def _run(pytester: pytest.Pytester, *args: str, **builder_kwargs: object) -> RunReport:
    reprec = pytester.inline_run(*args)
    builder = RunBuilder(**builder_kwargs)  # type: ignore[arg-type]
    for report in reprec.getreports("pytest_runtest_logreport"):
        builder.add(report)
    now = datetime.now(timezone.utc)
    return builder.build(name="t", started_at=now, finished_at=now)


def test_every_outcome_kind_folds_to_one_case(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_outcomes=OUTCOMES_SUITE)
    run = _run(pytester)
    by_name = {case.name: case for case in run.cases}
    assert len(run.cases) == len(by_name) == 11
    expected = {
        "test_pass": Outcome.PASSED,
        "test_fail": Outcome.FAILED,
        "test_setup_error": Outcome.ERROR,
        "test_teardown_error": Outcome.ERROR,
        "test_fail_and_teardown_error": Outcome.FAILED,
        "test_skip_in_body": Outcome.SKIPPED,
        "test_skip_marker": Outcome.SKIPPED,
        "test_xfail": Outcome.XFAILED,
        "test_xpass": Outcome.XPASSED,
        "test_xpass_strict": Outcome.FAILED,
        "test_xfail_not_run": Outcome.XFAILED,
    }
    for name, outcome in expected.items():
        assert by_name[name].outcome is outcome, name
    assert by_name["test_setup_error"].failed_phase == "setup"
    assert by_name["test_teardown_error"].failed_phase == "teardown"
    assert "teardown exploded" in by_name["test_teardown_error"].message
    both = by_name["test_fail_and_teardown_error"]
    assert both.failed_phase == "call"
    assert "call failed" in both.details and "teardown exploded" in both.details
    assert by_name["test_skip_marker"].message == "marker skip"
    assert by_name["test_xfail"].message == "known bug"
    assert "numbers differ" in by_name["test_fail"].message
    assert by_name["test_pass"].stdout.strip() == "hello stdout"


def test_xfail_can_be_reported_as_passed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        @pytest.mark.xfail(reason="known")
        def test_x():
            assert False
        """
    )
    run = _run(pytester, xfail_as="passed")
    assert [case.outcome for case in run.cases] == [Outcome.PASSED]


def test_reruns_count_attempts_and_keep_the_last_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        COUNT = {"n": 0}

        def test_flaky():
            COUNT["n"] += 1
            assert COUNT["n"] >= 3, f"attempt {COUNT['n']}"

        def test_always_fails():
            assert False, "still broken"
        """
    )
    run = _run(pytester, "-p", "rerunfailures", "--reruns", "2")
    flaky, broken = run.cases
    assert flaky.outcome is Outcome.PASSED
    assert len(flaky.attempts) == 2 and flaky.flaky
    assert "attempt 1" in flaky.attempts[0].message
    assert "attempt 2" in flaky.attempts[1].message
    assert broken.outcome is Outcome.FAILED
    assert len(broken.attempts) == 2 and not broken.flaky


def test_ticket_markers_travel_in_user_properties(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        pytestmark = pytest.mark.ticket("MOD-1")

        @pytest.mark.ticket("CLS-2", external_system_link="Jira")
        class TestThing:
            @pytest.mark.ticket("FN-3", "CLS-2")
            def test_a(self):
                assert False
        """
    )
    run = _run(pytester)
    (case,) = run.cases
    assert [ticket.key for ticket in case.tickets] == ["FN-3", "CLS-2", "MOD-1"]
    assert {ticket.external_system_link for ticket in case.tickets} == {"Jira"}


def test_split_nodeid_keeps_classes_apart() -> None:
    assert split_nodeid("tests/sub/test_x.py::TestA::test_t[é]") == (
        "tests/sub/test_x.py",
        "TestA::test_t[é]",
        "tests.sub.test_x.TestA",
    )
    assert split_nodeid("tests/test_y.py") == ("tests/test_y.py", "tests/test_y.py", "")


def test_bound_keeps_head_and_tail() -> None:
    text = "A" * 100 + "B" * 100
    cut = bound(text, 50)
    assert cut.startswith("A" * 33) and cut.endswith("B" * 17)
    assert "150 characters cut" in cut
    assert bound("short", 50) == "short"
