"""The mapping rules on small hand-made reports: values, properties, tickets, ids, bounds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tmupload.errors import InputError
from tmupload.junit.read import (
    ImportResult,
    ReadProgress,
    parse_duration,
    parse_timestamp,
    read_junit,
)
from tmupload.models import Outcome, TicketRef


def write(tmp_path: Path, body: str, name: str = "report.xml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def read_one(
    tmp_path: Path, body: str, *, max_output: int = 65536, run_name: str | None = None
) -> ImportResult:
    return read_junit([write(tmp_path, body)], max_output=max_output, run_name=run_name)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (None, 0.0),
        ("", 0.0),
        ("1.5", 1.5),
        (" 2 ", 2.0),
        ("1,234.5", 1234.5),
        ("12,345,678.25", 12345678.25),
        ("1,234", 1234.0),
        ("0,25", 0.25),
        ("n/a", 0.0),
        ("-3", 0.0),
        ("nan", 0.0),
        ("inf", 0.0),
    ],
)
def test_parse_duration(text: str | None, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T07:32:19", datetime(2026, 11, 23, 7, 32, 19, tzinfo=timezone.utc)),
        ("2026-11-23T07:32:19Z", datetime(2026, 11, 23, 7, 32, 19, tzinfo=timezone.utc)),
        (
            "2026-11-23T07:32:19.340021+00:00",
            datetime(2026, 11, 23, 7, 32, 19, 340021, tzinfo=timezone.utc),
        ),
        (
            "2026-11-23T07:32:19.123456789+0200",
            datetime(2026, 11, 23, 5, 32, 19, 123456, tzinfo=timezone.utc),
        ),
        ("2026-11-23 07:32", datetime(2026, 11, 23, 7, 32, tzinfo=timezone.utc)),
        ("yesterday", None),
        ("2026-13-45T99:00:00", None),
        (None, None),
    ],
)
def test_parse_timestamp(text: str | None, expected: datetime | None) -> None:
    assert parse_timestamp(text) == expected


def test_outcomes_ids_and_messages(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuites><testsuite name="S">
        <testcase classname="pkg.C" name="ok" time="0.5"/>
        <testcase classname="pkg.C" name="bad">
            <failure message="boom&#10;more">trace</failure></testcase>
        <testcase classname="pkg.C" name="err"><error>Oops happened
second line</error></testcase>
        <testcase classname="pkg.C" name="skip">
            <skipped type="pytest.skip" message="later"/></testcase>
        <testcase classname="pkg.C" name="xf">
            <skipped type="pytest.xfail" message="known"/></testcase>
        <testcase classname="pkg.C" name="notrun" status="notrun"/>
        <testcase name="no class"/>
        <testcase classname="S" name="same as suite"/>
        </testsuite></testsuites>""",
    )
    cases = {case.case_id: case for case in result.run.cases}
    assert list(cases) == [
        "S::pkg.C::ok",
        "S::pkg.C::bad",
        "S::pkg.C::err",
        "S::pkg.C::skip",
        "S::pkg.C::xf",
        "S::pkg.C::notrun",
        "S::no class",
        "S::same as suite",
    ]
    assert [case.outcome for case in cases.values()] == [
        Outcome.PASSED,
        Outcome.FAILED,
        Outcome.ERROR,
        Outcome.SKIPPED,
        Outcome.XFAILED,
        Outcome.SKIPPED,
        Outcome.PASSED,
        Outcome.PASSED,
    ]
    bad = cases["S::pkg.C::bad"]
    assert (bad.message, bad.details, bad.failed_phase) == ("boom", "trace", "call")
    assert cases["S::pkg.C::err"].message == "Oops happened"
    assert cases["S::pkg.C::ok"].duration == 0.5
    assert cases["S::pkg.C::ok"].name == "pkg.C::ok"
    assert cases["S::pkg.C::ok"].classname == "pkg.C"


def test_first_result_decides_and_later_ones_are_kept_in_details(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuite name="S"><testcase name="t">
        <failure message="first">one</failure><error message="second">two</error>
        </testcase></testsuite>""",
    )
    case = result.run.cases[0]
    assert case.outcome is Outcome.FAILED
    assert case.details == "one\n--- error ---\ntwo"


def test_cases_outside_any_suite_take_the_file_stem(tmp_path: Path) -> None:
    path = write(tmp_path, '<testsuites><testcase classname="c" name="t"/></testsuites>', "ci.xml")
    assert read_junit([path]).run.cases[0].case_id == "ci::c::t"


def test_unnamed_suites_are_left_out_of_the_suite_path(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuites><testsuite><testsuite name="inner">
        <testcase name="t"/></testsuite></testsuite></testsuites>""",
    )
    assert result.run.cases[0].suite == "inner"


def test_namespaced_elements_are_read(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuite xmlns="urn:example:junit" name="S">
        <testcase name="t"><failure message="m"/></testcase></testsuite>""",
    )
    assert [(case.case_id, case.outcome) for case in result.run.cases] == [("S::t", Outcome.FAILED)]


def test_properties_in_every_place_and_ticket_links(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuite name="S">
        <testcase name="wrapped"><properties>
            <property name="ticket" value="PAY-17, DEMO-1"/>
            <property name="ticket_external_system_link" value="Jira"/>
            <property name="owner" value="team-a"/>
            <property name="notes">free text</property>
        </properties><failure/></testcase>
        <testcase name="bare"><property name="ticket" value="PAY-18"/><failure/></testcase>
        <testcase name="attribute" ticket="DEMO-2"><failure/></testcase>
        </testsuite>""",
    )
    wrapped, bare, attribute = result.run.cases
    assert wrapped.tickets == [
        TicketRef(key="PAY-17", external_system_link="Jira"),
        TicketRef(key="DEMO-1", external_system_link="Jira"),
    ]
    assert wrapped.properties == [("owner", "team-a"), ("notes", "free text")]
    assert bare.tickets == [TicketRef(key="PAY-18")]
    assert attribute.tickets == [TicketRef(key="DEMO-2")]


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ('<property name="ticket" value="not a key!"/>', "'not a key!' is not a ticket key"),
        ('<property name="ticket" value=""/>', "'' is not a ticket key"),
        ('<property name="ticket_external_system_link" value=" "/>', "is empty"),
    ],
)
def test_a_bad_ticket_property_names_the_file_and_testcase(
    tmp_path: Path, prop: str, expected: str
) -> None:
    path = write(
        tmp_path,
        f'<testsuite name="S"><testcase classname="C" name="t"><properties>{prop}'
        "</properties></testcase></testsuite>",
    )
    with pytest.raises(InputError) as caught:
        read_junit([path])
    message = str(caught.value)
    assert str(path) in message
    assert "testcase 'S::C::t'" in message
    assert expected in message


def test_output_and_details_are_bounded(tmp_path: Path) -> None:
    long = "x" * 5000
    result = read_one(
        tmp_path,
        f"""<testsuite name="S"><testcase name="t">
        <failure message="{"m" * 3000}">{long}</failure>
        <system-out>{long}</system-out><system-err>{long}</system-err>
        </testcase></testsuite>""",
        max_output=1000,
    )
    case = result.run.cases[0]
    for text in (case.details, case.stdout, case.stderr):
        assert len(text) < 1100
        assert "characters cut by tmupload" in text
    assert len(case.message) < 2100


def test_same_id_twice_in_one_suite_is_kept_and_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """<testsuite name="S"><testcase name="t"/><testcase name="t"><failure/></testcase>
        <testcase name="t"/></testsuite>""",
    )
    result = read_junit([path])
    assert [case.case_id for case in result.run.cases] == ["S::t", "S::t #2", "S::t #3"]
    assert [case.name for case in result.run.cases] == ["t", "t", "t"]
    assert len(result.duplicates) == 1
    assert result.duplicates[0].case_id == "S::t"
    assert result.duplicates[0].files == (str(path),) * 3
    assert result.merged == 0


def test_only_a_failure_followed_by_an_error_is_folded(tmp_path: Path) -> None:
    result = read_one(
        tmp_path,
        """<testsuite name="S">
        <testcase name="a" time="1"><error message="failed on setup with &quot;x&quot;"/></testcase>
        <testcase name="a"><failure message="f"/></testcase>
        <testcase name="b" time="1"><failure message="f">call</failure>
            <system-out>call out</system-out></testcase>
        <testcase name="b" time="0.5">
            <error message="failed on teardown with &quot;y&quot;">td</error>
            <system-out>all out</system-out></testcase>
        <testcase name="b"><error message="third"/></testcase>
        </testsuite>""",
    )
    cases = {case.case_id: case for case in result.run.cases}
    assert list(cases) == ["S::a", "S::a #2", "S::b", "S::b #2"]
    assert result.merged == 1
    folded = cases["S::b"]
    assert folded.outcome is Outcome.FAILED
    assert folded.details == "call\n--- error in teardown ---\ntd"
    assert folded.duration == 1.5
    assert folded.stdout == "all out"
    assert cases["S::a"].failed_phase == "setup"
    assert [duplicate.case_id for duplicate in result.duplicates] == ["S::a", "S::b"]


def test_run_name_and_times_without_timestamps(tmp_path: Path) -> None:
    before = datetime.now(timezone.utc)
    result = read_one(
        tmp_path,
        """<testsuites><testsuite name="A" time="2.5"><testcase name="t" time="9"/></testsuite>
        <testsuite name="B"><testcase name="u" time="1.25"/></testsuite></testsuites>""",
        run_name="nightly",
    )
    run = result.run
    assert run.name == "nightly"
    assert before <= run.started_at <= datetime.now(timezone.utc)
    # The suite's own time wins over its cases; a suite without one counts its cases.
    assert run.finished_at - run.started_at == timedelta(seconds=3.75)


def test_default_run_name_counts_files(tmp_path: Path) -> None:
    one = write(tmp_path, '<testsuite name="S"><testcase name="t"/></testsuite>', "a.xml")
    two = write(tmp_path, '<testsuite name="T"><testcase name="t"/></testsuite>', "b.xml")
    assert read_junit([one]).run.name == "import of 1 file"
    assert read_junit([one, two]).run.name == "import of 2 files"


def test_progress_reports_each_file(tmp_path: Path) -> None:
    one = write(tmp_path, '<testsuite name="S"><testcase name="t"/></testsuite>', "a.xml")
    two = write(
        tmp_path,
        '<testsuite name="T">' + '<testcase name="t"/>' * 2 + "</testsuite>",
        "b.xml",
    )
    events: list[ReadProgress] = []
    read_junit([one, two], progress=events.append)
    done = [event for event in events if event.done]
    assert [(event.path, event.file_number, event.file_count, event.cases) for event in done] == [
        (one, 1, 2, 1),
        (two, 2, 2, 2),
    ]
    assert all(event.bytes_read == event.file_size for event in done)
    assert events[0] == ReadProgress(one, 1, 2, 0, 0, one.stat().st_size)
