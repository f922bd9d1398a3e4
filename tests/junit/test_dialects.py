"""Every dialect's sample report (see tests/data/junit/README.md) reads into the expected cases."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from junit_samples import DATA

from tmupload.junit.read import ImportResult, read_junit
from tmupload.models import CaseResult, Outcome

# file -> (outcome counts, a few exact case ids)
EXPECTED: dict[str, tuple[dict[str, int], list[str]]] = {
    "pytest/xunit2.xml": (
        {"passed": 5, "failed": 3, "error": 1, "skipped": 1, "xfailed": 1},
        [
            "pytest::test_checkout::test_adds_item",
            "pytest::test_checkout.TestRefunds::test_refund[-1]",
        ],
    ),
    "pytest/xunit1.xml": (
        {"passed": 5, "failed": 4, "error": 1, "skipped": 1, "xfailed": 1},
        ["pytest::test_xunit1_attrs::test_links_via_attribute"],
    ),
    "unittest/xmlrunner.xml": (
        {"passed": 2, "failed": 2, "error": 2, "skipped": 1, "xfailed": 1},
        [
            "test_inventory.InventoryTest::test_counts_stock",
            "test_inventory.InventoryTest::test_sizes (size='XL')",
            "test_inventory.ShippingTest::test_ships",
        ],
    ),
    "jest/jest-junit.xml": (
        {"passed": 4, "failed": 2, "skipped": 1},
        ["Cart::Cart when empty shows a hint", "undefined:: throws on a negative price"],
    ),
    "mocha/mocha-junit.xml": (
        {"passed": 2, "failed": 2, "skipped": 1},
        [
            "Search::finds a product::Search finds a product",
            "filters::by colour::Search filters by colour",
        ],
    ),
    "ctest/ctest-junit.xml": (
        {"passed": 2, "failed": 1, "skipped": 3},
        ["(empty)::area.triangle", "(empty)::area.hexagon"],
    ),
    "robot/xunit.xml": (
        {"passed": 2, "failed": 2, "skipped": 2},
        [
            "Tests / Api / Orders::Tests.Api.Orders::Cancel Order",
            "Tests / Login::Tests.Login::Valid Login",
        ],
    ),
    "behave/TESTS-checkout.xml": (
        {"passed": 2, "failed": 2, "error": 1, "skipped": 1},
        ["checkout.Checkout::Pay with a saved card", "checkout.Checkout::Pay in GBP -- @1.2 "],
    ),
    "gotestsum/junit.xml": (
        {"passed": 2, "failed": 3, "skipped": 1},
        ["example.com/shop/shop::TestCurrencies/USD", "example.com/shop/shop::TestTax"],
    ),
    "surefire/TEST-PaymentServiceTest-WhenOffline.xml": (
        {"passed": 3, "failed": 2, "error": 1, "skipped": 1},
        [
            "com.example.payments.PaymentServiceTest$WhenOffline::reportsBacklog",
            "com.example.payments.PaymentServiceTest$WhenOffline"
            "::com.example.payments.PaymentServiceTest::retriesGateway",
        ],
    ),
    "surefire/nested-flaky-tickets.xml": (
        {"passed": 3, "failed": 2, "error": 1, "skipped": 1},
        [
            "payments-service / com.example.payments.CheckoutIT::appliesCoupon",
            "payments-service / com.example.payments.RefundTest::refundsFully",
        ],
    ),
    "jenkins/attachments.xml": (
        {"passed": 2, "failed": 1},
        ["ui.LoginPageTest::rejectsWrongPassword"],
    ),
}


def read(name: str) -> ImportResult:
    return read_junit([DATA / name])


def by_name(result: ImportResult) -> dict[str, CaseResult]:
    """Cases by the last part of their name (unique within each sample file)."""
    return {case.name.rpartition("::")[2]: case for case in result.run.cases}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_counts_per_outcome_and_exact_ids(name: str) -> None:
    counts, ids = EXPECTED[name]
    result = read(name)
    assert {key: value for key, value in result.run.counts().items() if value} == counts
    found = {case.case_id for case in result.run.cases}
    assert set(ids) <= found, sorted(found)
    assert len(found) == len(result.run.cases)  # no sample has a duplicate
    assert result.files[0].cases == len(result.run.cases)


def test_every_sample_is_covered() -> None:
    samples = {str(path.relative_to(DATA)) for path in DATA.rglob("*.xml")}
    # encodings/ re-encodes pytest/xunit2.xml: test_encodings.py compares each with it.
    others = {"shards/shard-1.xml", "shards/shard-2.xml"}
    assert {name for name in samples - others if not name.startswith("encodings/")} == set(EXPECTED)


def test_pytest_skip_and_xfail_are_told_apart() -> None:
    cases = by_name(read("pytest/xunit2.xml"))
    assert cases["test_skipped_on_ci"].outcome is Outcome.SKIPPED
    assert cases["test_skipped_on_ci"].message == "needs a real payment gateway"
    assert cases["test_rounds_half_up"].outcome is Outcome.XFAILED
    assert cases["test_rounds_half_up"].message == "PAY-19: rounding bug"
    assert cases["test_unexpectedly_passes"].outcome is Outcome.PASSED


def test_pytest_call_failure_and_teardown_error_become_one_failed_case() -> None:
    for name in ("pytest/xunit1.xml", "pytest/xunit2.xml"):
        result = read(name)
        assert result.merged == 1
        assert result.duplicates == []
        case = by_name(result)["test_fails_then_teardown_breaks"]
        assert case.outcome is Outcome.FAILED
        assert case.failed_phase == "call"
        assert case.message == "AssertionError: wrong session"
        assert "--- error in teardown ---" in case.details
        assert "RuntimeError: session not closed" in case.details
        assert case.details.index("wrong session") < case.details.index("session not closed")
        assert [ticket.key for ticket in case.tickets] == ["DEMO-2"]


def test_pytest_errors_know_their_phase_and_tickets_come_from_markers() -> None:
    cases = by_name(read("pytest/xunit2.xml"))
    setup_error = cases["test_reads_prices"]
    assert setup_error.outcome is Outcome.ERROR
    assert setup_error.failed_phase == "setup"
    assert [ticket.key for ticket in setup_error.tickets] == ["PAY-18", "DEMO-1"]
    recorded = cases["test_records_properties"]
    assert [ticket.key for ticket in recorded.tickets] == ["DEMO-3"]
    assert recorded.properties == [("component", "checkout")]


def test_pytest_xunit1_ticket_written_as_a_testcase_attribute() -> None:
    case = by_name(read("pytest/xunit1.xml"))["test_links_via_attribute"]
    assert [ticket.key for ticket in case.tickets] == ["PAY-17"]
    assert list(case.properties) == []


def test_pytest_captured_output_goes_to_stdout_and_stderr() -> None:
    case = by_name(read("pytest/xunit2.xml"))["test_applies_coupon"]
    assert "coupon SAVE10" in case.stdout
    assert "coupon rejected" in case.stderr
    assert "coupon rejected" not in case.stdout


def test_pytest_run_times_come_from_the_suite() -> None:
    run = read("pytest/xunit2.xml").run
    assert run.started_at == datetime(2026, 11, 23, 7, 32, 22, 499023, tzinfo=timezone.utc)
    assert (run.finished_at - run.started_at).total_seconds() == pytest.approx(0.074)


def test_surefire_flaky_and_rerun_attempts() -> None:
    cases = by_name(read("surefire/TEST-PaymentServiceTest-WhenOffline.xml"))
    flaky = cases["retriesGateway"]
    assert flaky.outcome is Outcome.PASSED
    assert flaky.flaky
    assert [attempt.outcome for attempt in flaky.attempts] == [Outcome.FAILED]
    assert flaky.attempts[0].message.startswith("gateway busy on first try")
    rerun = cases["refundsPartially"]
    assert rerun.outcome is Outcome.FAILED
    assert not rerun.flaky
    assert len(rerun.attempts) == 2
    error = cases["rejectsExpiredCard"]
    assert error.outcome is Outcome.ERROR
    assert [attempt.outcome for attempt in error.attempts] == [Outcome.ERROR, Outcome.ERROR]
    assert "backlog is 3" in cases["reportsBacklog"].stderr


def test_surefire_nested_suites_times_and_tickets() -> None:
    result = read("surefire/nested-flaky-tickets.xml")
    cases = by_name(result)
    flaky = cases["retriesGateway"]
    assert flaky.suite == "payments-service / com.example.payments.CheckoutIT"
    assert flaky.duration == 1100.5  # written "1,100.5"
    assert [attempt.outcome for attempt in flaky.attempts] == [Outcome.FAILED, Outcome.ERROR]
    assert cases["refundsFully"].duration == 0.0  # no time attribute
    assert cases["refundsPartially"].duration == 0.0  # time="n/a"
    coupon = cases["appliesCoupon"]
    assert [ticket.key for ticket in coupon.tickets] == ["PAY-17"]
    assert coupon.properties == [("component", "coupons")]
    assert [ticket.key for ticket in cases["readsPrices"].tickets] == ["PAY-18", "OPS-404"]
    run = result.run
    assert run.started_at == datetime(2026, 11, 20, 9, 15, tzinfo=timezone.utc)
    # The inner suite that started last ends last: 09:35:02 + 34.25 s.
    assert run.finished_at == datetime(2026, 11, 20, 9, 35, 36, 250000, tzinfo=timezone.utc)


def test_jenkins_attachment_lines_become_properties() -> None:
    cases = by_name(read("jenkins/attachments.xml"))
    assert cases["showsLoginForm"].properties == [
        ("attachment", "/var/lib/jenkins/workspace/ui/screenshots/login-form.png")
    ]
    assert cases["rejectsWrongPassword"].properties == [
        ("attachment", "/var/lib/jenkins/workspace/ui/screenshots/wrong-password.png"),
        ("attachment", "/var/lib/jenkins/workspace/ui/logs/browser-console.log"),
    ]
    assert list(cases["remembersUser"].properties) == []


def test_ctest_disabled_and_not_run_tests_are_skipped() -> None:
    cases = by_name(read("ctest/ctest-junit.xml"))
    assert cases["area.hexagon"].outcome is Outcome.SKIPPED  # status="disabled", no child
    assert cases["area.hexagon"].message == "disabled"
    assert cases["area.missing"].message == "Unable to find executable"
    assert "expected 6 but got 7" in cases["area.triangle"].stdout


def test_unittest_expected_failure_is_xfailed_and_suite_ids_are_stable() -> None:
    result = read("unittest/xmlrunner.xml")
    cases = by_name(result)
    assert cases["test_known_rounding_bug"].outcome is Outcome.XFAILED
    assert cases["test_fixed_bug"].outcome is Outcome.ERROR  # unexpected success
    # xmlrunner appends the run's time to suite names; ids must not change per run.
    assert {case.suite for case in result.run.cases} == {
        "test_inventory.InventoryTest",
        "test_inventory.ShippingTest",
    }


def test_robot_bare_nested_testsuite_root() -> None:
    cases = by_name(read("robot/xunit.xml"))
    assert cases["Create Order"].suite == "Tests / Api / Orders"
    assert cases["Valid Login"].suite == "Tests / Login"
    assert cases["Refund Order"].message == "Test skipped using 'robot:skip' tag."


def test_jest_classname_equal_to_name_is_not_repeated() -> None:
    cases = by_name(read("jest/jest-junit.xml"))
    shows = cases["Cart when empty shows a hint"]
    assert shows.name == "Cart when empty shows a hint"
    assert shows.classname == "Cart when empty shows a hint"
    failed = cases["Cart applies a discount"]
    assert failed.message == "Error: expect(received).toBe(expected) // Object.is equality"
    assert "Received: 90" in failed.details
