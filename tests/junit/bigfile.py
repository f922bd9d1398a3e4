"""A generator of large JUnit XML files for the memory test (written as a stream, never held)."""

from __future__ import annotations

from pathlib import Path

PER_SUITE = 1000


def _case(number: int) -> str:
    """One testcase of about 300 bytes on average, outcomes mixed as in a real large suite."""
    head = (
        f'    <testcase classname="com.example.shop.module{number // 5000}.integration.'
        f'Class{number % 50}Test" name="test_case_{number}_checks_that_the_order_total_is_right" '
        f'time="0.{number % 1000:03d}"'
    )
    if number % 10 == 0:
        return (
            f'{head}>\n      <failure message="expected {number} but was {number + 1}" '
            'type="AssertionError">Traceback (most recent call last):\n'
            f'  File "tests/test_module.py", line {number % 400}, in test_case_{number}\n'
            "    total = checkout.total(order)\n"
            '  File "src/shop/checkout.py", line 88, in total\n'
            "    return sum(line.price * line.quantity for line in order.lines)\n"
            '  File "src/shop/checkout.py", line 88, in &lt;genexpr&gt;\n'
            "    return sum(line.price * line.quantity for line in order.lines)\n"
            '  File "tests/test_module.py", line 12, in check\n'
            "    assert actual == expected\n"
            f"AssertionError: expected {number} but was {number + 1}</failure>\n"
            f"      <system-out>request id {number:08d} finished</system-out>\n"
            "    </testcase>\n"
        )
    if number % 20 == 1:
        return f'{head}>\n      <skipped message="not on this platform"/>\n    </testcase>\n'
    if number % 100 == 2:
        return (
            f'{head}>\n      <properties><property name="ticket" value="PAY-17"/>'
            "</properties>\n    </testcase>\n"
        )
    if number % 5 in (3, 4):
        return (
            f"{head}>\n      <system-out>checked {number} records in 12 ms, cache warm, "
            "no retries, 2 queries, 0 warnings, connection pool 4/8</system-out>\n"
            "    </testcase>\n"
        )
    return f"{head}/>\n"


def write_big_junit(path: Path, cases: int, encoding: str = "utf-8") -> Path:
    """Write ``cases`` testcases in suites of 1,000 under one ``<testsuites>``.

    ``encoding="utf-16"`` writes a byte order mark first, as Windows tools do.
    """
    with path.open("w", encoding=encoding) as handle:
        handle.write(
            f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n<testsuites name="generated">\n'
        )
        for first in range(0, cases, PER_SUITE):
            count = min(PER_SUITE, cases - first)
            handle.write(
                f'  <testsuite name="suite{first // PER_SUITE}" tests="{count}" '
                'timestamp="2026-11-01T12:00:00Z">\n'
            )
            handle.writelines(_case(number) for number in range(first, first + count))
            handle.write("  </testsuite>\n")
        handle.write("</testsuites>\n")
    return path
