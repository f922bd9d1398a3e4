"""The JUnit importer's node shapes, its refusals, and its speed on large uploads."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from tmupload.targets.et.emulator.entities import ResultNode
from tmupload.targets.et.emulator.importer import parse_upload

if TYPE_CHECKING:
    from conftest import Et


def _tree(node: ResultNode) -> object:
    if not node.children:
        return (node.name, node.status)
    return (node.name, node.status, [_tree(child) for child in node.children])


def test_bare_testsuite_root_with_nested_suites_and_statuses() -> None:
    xml = b"""<?xml version="1.0" encoding="utf-8"?>
    <testsuite name="root" time="9.5">
      <testsuite name="only skipped"><testcase name="s"><skipped/></testcase></testsuite>
      <testsuite name="mixed">
        <testcase name="p"/>
        <testcase name="e"><error message="boom"/></testcase>
      </testsuite>
      <testcase name="direct" time="1.5"><system-out>noise</system-out></testcase>
    </testsuite>"""
    parsed = parse_upload("r.xml", xml, received_at=1000.0)
    assert parsed.error is None
    assert [_tree(root) for root in parsed.roots] == [
        (
            "root",
            "Failed",
            [
                ("only skipped", "Skipped", [("s", "Skipped")]),
                ("mixed", "Failed", [("p", "Passed"), ("e", "Error")]),
                ("direct", "Passed"),
            ],
        )
    ]
    assert parsed.counts == {"Passed": 2, "Failed": 0, "Error": 1, "Skipped": 1}
    assert len(parsed.index) == 7
    assert parsed.roots[0].duration == 9.5
    assert parsed.started_at == 1000.0  # no timestamp: when the upload arrived
    assert parsed.finished_at == 1009.5


def test_names_are_kept_exactly() -> None:
    names = ["test_ünïcödé[参数-1]", "test_x[a/b::c]", "t" * 5000, "  spaced  "]
    cases = "".join(f'<testcase name="{name}"/>' for name in names)
    parsed = parse_upload("r.xml", f"<testsuite name='s'>{cases}</testsuite>".encode(), 0.0)
    assert [child.name for child in parsed.roots[0].children] == names


def test_failure_message_type_and_text() -> None:
    xml = (
        b"<testsuites><testsuite name='s'><testcase name='f' time='0.5'>"
        b"<failure message='assert 1 == 2' type='AssertionError'>Traceback\n  line</failure>"
        b"</testcase><testcase name='k'><skipped message='later'/></testcase>"
        b"</testsuite></testsuites>"
    )
    failed, skipped = parse_upload("r.xml", xml, 0.0).roots[0].children
    assert (failed.status, failed.description, failed.duration) == ("Failed", "assert 1 == 2", 0.5)
    assert failed.metadata == {"Type": "AssertionError", "Output": "Traceback\n  line"}
    assert (skipped.status, skipped.description, skipped.metadata) == ("Skipped", "later", {})


def test_earliest_timestamp_starts_the_run() -> None:
    xml = (
        b"<testsuites time='4'>"
        b"<testsuite name='b' timestamp='2024-01-01T10:00:05'><testcase name='x'/></testsuite>"
        b"<testsuite name='a' timestamp='2024-01-01T10:00:01Z'><testcase name='y'/></testsuite>"
        b"</testsuites>"
    )
    parsed = parse_upload("r.xml", xml, 0.0)
    assert parsed.started_at == 1704103201.0  # 2024-01-01T10:00:01Z
    assert parsed.finished_at - parsed.started_at == 4.0  # the <testsuites time>


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE testsuite SYSTEM "http://example.com/x.dtd"><testsuite/>',
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b"<testsuite name='&lol2;'/>",
    ],
)
def test_doctype_and_entities_are_refused(xml: bytes) -> None:
    parsed = parse_upload("evil.xml", xml, 0.0)
    assert parsed.error is not None and "DOCTYPE" in parsed.error
    assert parsed.roots == [] and parsed.index == {}


def test_doctype_text_inside_cdata_is_just_text() -> None:
    xml = (
        b"<testsuite name='s'><testcase name='html'><failure><![CDATA[<!DOCTYPE html><p>]]>"
        b"</failure></testcase></testsuite>"
    )
    parsed = parse_upload("r.xml", xml, 0.0)
    assert parsed.error is None
    assert parsed.roots[0].children[0].metadata["Output"] == "<!DOCTYPE html><p>"


def test_zip_without_xml_and_broken_zip_are_refused() -> None:
    assert "no .xml" in (parse_upload("r.zip", _zip({"a.txt": b"x"}), 0.0).error or "")
    assert parse_upload("r.zip", b"PK\x03\x04 not really", 0.0).error is not None


def _zip(members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_large_upload_through_the_api_completes_quickly(et: Et) -> None:
    count = 20_000
    xml = et.junit(
        *[
            (f"test_{i}[param-{i % 7}]", "failed" if i % 100 == 0 else "passed")
            for i in range(count)
        ]
    )
    placement = et.placement()
    started = time.monotonic()
    run = et.import_run(placement.assignment_id, xml)
    elapsed = time.monotonic() - started
    assert run["Totals"]["TotalResults"] == count
    assert run["Totals"]["Failed"] == count // 100
    assert run["Totals"]["TotalNodes"] == count + 1
    (suite,) = et.nodes(run["Id"])
    children = et.client.get(f"{suite['Self']}/children", params={"statuses": "Failed"}).json()
    assert len(children) == count // 100
    assert elapsed < 10.0, f"importing {count} testcases took {elapsed:.1f} s"
