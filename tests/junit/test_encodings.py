"""UTF-16 and UTF-8-with-BOM reports import as they are, streaming; what is unreadable is not.

Windows PowerShell (``Out-File``, ``>``) and .NET's ``XmlWriter`` write UTF-16 with a byte
order mark and ``encoding="utf-16"``: well-formed XML that used to be refused as bad input.
"""

from __future__ import annotations

import codecs
import tracemalloc
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
from bigfile import write_big_junit
from junit_samples import DATA, import_args

from live import Live
from tmupload.cli.app import main
from tmupload.errors import InputError
from tmupload.junit.read import read_junit, validate_junit

ORIGINAL = DATA / "pytest" / "xunit2.xml"
# Re-encodings of ORIGINAL (see tests/data/junit/README.md, "Encodings").
SAMPLES = sorted((DATA / "encodings").glob("*.xml"))
UTF16 = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}


def cases_of(path: Path) -> list[dict[str, Any]]:
    return [asdict(case) for case in read_junit([path]).run.cases]


def test_every_encoding_sample_is_there() -> None:
    assert [path.name for path in SAMPLES] == [
        "xunit2-utf16be-bom-decl.xml",
        "xunit2-utf16be-bom.xml",
        "xunit2-utf16le-bom-decl-crlf.xml",
        "xunit2-utf16le-bom.xml",
        "xunit2-utf8-bom.xml",
    ]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_a_re_encoded_report_reads_into_the_same_cases(sample: Path) -> None:
    original = cases_of(ORIGINAL)
    assert len(original) == 11
    assert cases_of(sample) == original


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_import_sends_a_re_encoded_report(
    live: Live, tmp_path: Path, capsys: pytest.CaptureFixture[str], sample: Path
) -> None:
    code = main(import_args(live, tmp_path, sample))
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"tmupload: parsed {sample} (11 cases)" in err
    totals = live.only_run()["Totals"]
    assert (totals["TotalResults"], totals["Failed"], totals["Errors"]) == (11, 3, 1)


def report(name: str) -> str:
    return (
        '<testsuites name="i18n">\n<testsuite name="Größe">\n'
        f'<testcase classname="ütf" name="{name}">\n'
        '<failure message="attendu « 3 »">ожидалось 3 ✗</failure>\n</testcase>\n'
        "</testsuite>\n</testsuites>\n"
    )


NAME = "café ✓ 😀 𝄞"  # two characters outside the BMP: surrogate pairs in UTF-16


@pytest.mark.parametrize(
    ("codec", "bom", "declaration"),
    [
        ("utf-16-le", True, "UTF-16"),
        ("utf-16-be", True, "UTF-16"),
        ("utf-16-le", True, None),
        ("utf-16-be", True, None),
        ("utf-16-le", True, "UTF-16LE"),
        # No byte order mark: told by the NUL beside "<" (XML 1.0 Appendix F), as expat does.
        ("utf-16-le", False, "UTF-16"),
        ("utf-16-be", False, "UTF-16"),
    ],
)
def test_non_ascii_text_in_utf16_is_decoded(
    tmp_path: Path, codec: str, bom: bool, declaration: str | None
) -> None:
    text = report(NAME)
    if declaration:
        text = f'<?xml version="1.0" encoding="{declaration}"?>\r\n{text}'
    path = tmp_path / "report.xml"
    path.write_bytes((UTF16[codec] if bom else b"") + text.encode(codec))
    (case,) = read_junit([path]).run.cases
    assert case.case_id == f"Größe::ütf::{NAME}"
    assert (case.message, case.details) == ("attendu « 3 »", "ожидалось 3 ✗")


def test_a_surrogate_pair_split_across_read_chunks(tmp_path: Path) -> None:
    # 1 MiB chunks: the two halves of "😀" (4 bytes in UTF-16) on either side of the boundary.
    head = codecs.BOM_UTF16_LE + '<testsuite name="s">\n<testcase name="'.encode("utf-16-le")
    pad = "a" * (((1 << 20) - len(head) - 2) // 2)
    path = tmp_path / "boundary.xml"
    path.write_bytes(head + (pad + '😀"/>\n</testsuite>\n').encode("utf-16-le"))
    assert path.read_bytes()[(1 << 20) - 2 : (1 << 20) + 2].decode("utf-16-le") == "😀"
    validate_junit(path)
    assert read_junit([path]).run.cases[0].name.endswith("a😀")


def test_a_doctype_after_a_long_prolog_names_its_line(tmp_path: Path) -> None:
    # Just under the 1 MiB a prolog may take: the line is counted in the UTF-8 view of it.
    comment = "<!--" + "\n".join("x" * 99 for _ in range(5000)) + "-->\n"
    text = f'<?xml version="1.0" encoding="UTF-16"?>\n{comment}<!DOCTYPE x>\n<testsuite/>\n'
    path = tmp_path / "long-prolog.xml"
    path.write_bytes(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))
    assert 0.9 * (1 << 20) < path.stat().st_size < 1 << 20
    with pytest.raises(InputError, match=r"line 5002: the file declares a DOCTYPE"):
        validate_junit(path)


def test_a_big_utf16_report_is_read_with_bounded_memory(tmp_path: Path) -> None:
    path = write_big_junit(tmp_path / "big16.xml", 20_000, encoding="utf-16")
    assert path.read_bytes()[:2] == codecs.BOM_UTF16_LE
    size = path.stat().st_size
    tracemalloc.start()
    try:
        validate_junit(path)
        _, validation_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = read_junit([path], validate=False)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(result.run.cases) == 20_000
    assert result.run.counts()["failed"] == 2_000
    assert validation_peak < 8_000_000  # a few chunks and their UTF-8 view of the prolog
    assert peak - kept < size, (peak - kept, size)  # as for UTF-8 (test_big_input.py)
