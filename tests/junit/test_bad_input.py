"""Bad input: one message naming the file and line, exit code 2, and nothing sent."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from junit_samples import DATA, import_args

from live import Live
from tmupload.cli.app import main
from tmupload.errors import InputError
from tmupload.junit.read import ReadProgress, read_junit, validate_junit

GOOD = DATA / "shards" / "shard-1.xml"

# id -> (file content, words the message must hold, the line it must name)
BAD: dict[str, tuple[bytes, str, int | None]] = {
    "malformed": (
        b'<?xml version="1.0"?>\n<testsuite name="s">\n<testcase name="a">\n</testsuite>\n',
        "not well-formed XML (mismatched tag)",
        4,
    ),
    "truncated": (
        b'<?xml version="1.0"?>\n<testsuites>\n<testsuite name="s">\n<testcase name="a"/>\n'
        b'<testcase name="b" ti',
        "ends before the XML is complete",
        5,
    ),
    "truncated-between-elements": (
        b'<testsuite name="s">\n<testcase name="a"/>\n',
        "ends before the XML is complete",
        3,
    ),
    "not-xml": (b'{"tests": 3, "failures": 0}\n', "not an XML file", 1),
    "empty": (b"", "the file is empty", None),
    "blank": (b"  \n\n", "the file is empty", None),
    "doctype": (
        b'<?xml version="1.0"?>\n<!DOCTYPE testsuite SYSTEM "file:///etc/passwd">\n'
        b'<testsuite name="s"/>\n',
        "declares a DOCTYPE",
        2,
    ),
    "entity": (
        b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n'
        b'  <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n]>\n<testsuite name="&lol2;"/>\n',
        "declares an entity",
        3,
    ),
    "doctype-after-comment": (
        b"<!-- produced by a custom reporter -->\n\n<!DOCTYPE x>\n<testsuite/>\n",
        "declares a DOCTYPE",
        3,
    ),
    "invalid-utf8": (
        b'<testsuite name="s">\n<testcase name="ok"/>\n<testcase name="caf\xe9"/>\n</testsuite>\n',
        "invalid UTF-8 (byte 0xe9)",
        3,
    ),
    "utf32": (
        codecs.BOM_UTF32_LE + '<testsuite name="s"/>'.encode("utf-32-le"),
        "UTF-32-encoded",
        1,
    ),
    # UTF-16 is read (test_encodings.py), but what is unreadable in it gets the same message.
    "utf16-declares-utf8": (
        codecs.BOM_UTF16_LE
        + '<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="s"/>\n'.encode("utf-16-le"),
        "not well-formed XML (encoding specified in XML declaration is incorrect)",
        1,
    ),
    "utf8-declares-utf16": (
        b'<?xml version="1.0" encoding="UTF-16"?>\n<testsuite name="s"/>\n',
        "not well-formed XML (encoding specified in XML declaration is incorrect)",
        1,
    ),
    "utf16-truncated": (
        codecs.BOM_UTF16_BE
        + '<testsuites>\n<testsuite name="s">\n<testcase name="a"/>\n<testcase na'.encode(
            "utf-16-be"
        ),
        "ends before the XML is complete",
        4,
    ),
    "utf16-truncated-mid-character": (
        codecs.BOM_UTF16_LE
        + '<testsuite name="s">\n<testcase name="a"/>\n'.encode("utf-16-le")[:-1],
        "ends before the XML is complete",
        2,
    ),
    "utf16-doctype": (
        codecs.BOM_UTF16_LE
        + '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE testsuite SYSTEM "file:///etc/passwd">'
        '\n<testsuite name="s"/>\n'.encode("utf-16-le"),
        "declares a DOCTYPE",
        2,
    ),
    "utf16-entity": (
        codecs.BOM_UTF16_BE
        + '<!DOCTYPE lolz [\n  <!ENTITY lol "lol">\n]>\n<testsuite name="&lol;"/>\n'.encode(
            "utf-16-be"
        ),
        "declares an entity",
        2,
    ),
    "utf16-not-junit": (
        codecs.BOM_UTF16_LE + "<project/>\n".encode("utf-16-le"),
        "the root element is <project>",
        1,
    ),
    "not-junit": (
        b'<?xml version="1.0"?>\n<project><modelVersion>4.0.0</modelVersion></project>\n',
        "the root element is <project>",
        2,
    ),
}


def write_bad(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.xml"
    path.write_bytes(BAD[kind][0])
    return path


@pytest.mark.parametrize("kind", sorted(BAD))
def test_validate_names_the_file_the_line_and_the_problem(tmp_path: Path, kind: str) -> None:
    path = write_bad(tmp_path, kind)
    _content, words, line = BAD[kind]
    with pytest.raises(InputError) as caught:
        validate_junit(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert words in message
    if line is not None:
        assert f"line {line}" in message
    assert "; " in message  # the fix follows the problem


@pytest.mark.parametrize("kind", sorted(BAD))
def test_import_exits_2_and_sends_nothing(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    bad = write_bad(tmp_path, kind)
    code = main(import_args(live, tmp_path, GOOD, bad))
    assert code == 2
    err = capsys.readouterr().err
    assert f"tmupload: error: {bad}: " in err
    assert BAD[kind][1] in err
    assert "nothing was sent" in err
    assert "--skip-invalid to import the other 1" in err
    assert "parsed" not in err  # not even the good file was read
    assert live.emulator.requests == []
    assert not (tmp_path / "outbox").exists()


def test_read_junit_checks_every_file_before_reading_any(tmp_path: Path) -> None:
    bad = write_bad(tmp_path, "truncated")
    events: list[ReadProgress] = []
    with pytest.raises(InputError, match="truncated"):
        read_junit([GOOD, bad], progress=events.append)
    assert events == []


def test_a_missing_file(live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.xml"
    assert main(import_args(live, tmp_path, missing)) == 2
    err = capsys.readouterr().err
    assert f"{missing}: cannot read the file (No such file or directory); check the path" in err
    assert live.emulator.requests == []


def test_every_bad_file_is_listed_in_one_message(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doctype = write_bad(tmp_path, "doctype")
    truncated = write_bad(tmp_path, "truncated")
    assert main(import_args(live, tmp_path, doctype, GOOD, truncated)) == 2
    err = capsys.readouterr().err
    assert "2 of 3 files cannot be used:" in err
    assert f"  {doctype}: line 2: " in err
    assert f"  {truncated}: line 5, column " in err
    assert live.emulator.requests == []


def test_skip_invalid_imports_the_others(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_bad(tmp_path, "invalid-utf8")
    code = main([*import_args(live, tmp_path, bad, GOOD), "--skip-invalid"])
    assert code == 0
    err = capsys.readouterr().err
    assert f"warning: skipping an invalid file: {bad}: line 3, column " in err
    run = live.only_run()
    assert run["Totals"]["TotalResults"] == 3  # shard-1 only
    assert run["Totals"]["Failed"] == 1


def test_skip_invalid_with_nothing_valid_left(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write_bad(tmp_path, "empty")
    assert main([*import_args(live, tmp_path, bad), "--skip-invalid"]) == 2
    assert "no valid JUnit XML file is left to import" in capsys.readouterr().err
    assert live.emulator.requests == []


def test_utf8_split_across_read_chunks_is_valid(tmp_path: Path) -> None:
    # 1 MiB chunks: put the two bytes of "é" on either side of the first boundary.
    head = b'<testsuite name="s">\n<testcase name="'
    pad = b"a" * ((1 << 20) - len(head) - 1)
    path = tmp_path / "boundary.xml"
    path.write_bytes(head + pad + "é".encode() + b'"/>\n</testsuite>\n')
    validate_junit(path)
    assert read_junit([path]).run.cases[0].name.endswith("aé")


def test_invalid_utf8_far_into_a_big_file_names_its_line(tmp_path: Path) -> None:
    lines = [b'<testsuite name="s">\n'] + [b'<testcase name="t%d"/>\n' % n for n in range(60000)]
    lines[50000] = b'<testcase name="\xff"/>\n'
    path = tmp_path / "big.xml"
    path.write_bytes(b"".join([*lines, b"</testsuite>\n"]))
    with pytest.raises(InputError, match=r"line 50001, column 17: invalid UTF-8 \(byte 0xff\)"):
        validate_junit(path)


def test_a_declared_latin1_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "latin1.xml"
    path.write_bytes(
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        b'<testsuite name="s"><testcase name="caf\xe9"/></testsuite>\n'
    )
    validate_junit(path)
    assert read_junit([path]).run.cases[0].name == "café"
