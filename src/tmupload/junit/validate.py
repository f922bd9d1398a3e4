"""Proving a JUnit file usable before anything is read or sent (one streaming pass).

The prolog is scanned for a DOCTYPE or entity declaration (docs/architecture.md §11: such XML is
rejected, never parsed), then expat reads the file to its end in chunks, with no tree, to prove it
is well-formed in its declared encoding (a report cut short by a crashed CI job is the common case).

UTF-16 (Windows PowerShell and .NET tools write it, with a byte order mark) is read as it is:
expat decodes UTF-16 itself, in the validation pass and in ``ElementTree.iterparse`` alike, and
checks that an encoding declaration agrees with the bytes. Only the prolog scan, which works on
ASCII-compatible bytes, reads a UTF-8 transcoding of the first chunk(s), so its messages and
line numbers are those of a UTF-8 file. UTF-32 is refused: expat cannot read it.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from tmupload.junit.values import bad_input, local_name

__all__ = ["validate_junit"]

_CHUNK = 1 << 20  # bytes read at a time by the validation pass
_PROLOG_LIMIT = 1 << 20  # a prolog (declaration, comments) longer than this is not a report
_ROOTS = {"testsuites", "testsuite"}
_NAME = re.compile(rb"[A-Za-z_:][-A-Za-z0-9_:.]*")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
# How the first bytes tell UTF-16 (XML 1.0 Appendix F, as expat detects it): a byte order mark,
# or, without one, the NUL byte beside the "<" every XML file starts with.
_UTF16_STARTS = (
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


def _line_of(data: bytes, pos: int) -> int:
    return data.count(b"\n", 0, pos) + 1


def validate_junit(path: Path) -> None:
    """Raise InputError (file, line, problem, fix) unless ``path`` is a usable JUnit XML file.

    Checks, in this order and without building a tree: readable; not UTF-32; no DOCTYPE or
    entity declaration in the prolog; an XML root element named testsuites or testsuite; valid
    UTF-8 (when the file is neither UTF-16 nor declares another encoding) and well-formed to the
    end, which for UTF-16 and declared encodings includes agreeing with the declaration.
    """
    try:
        with path.open("rb") as handle:
            head, encoding = _check_prolog(path, handle)
            _check_body(path, handle, head, encoding)
    except OSError as exc:
        bad_input(path, "", f"cannot read the file ({exc.strerror or exc})", "check the path")


def _check_prolog(path: Path, handle: BinaryIO) -> tuple[bytes, str]:
    """Read until the root element starts; return the bytes read and the encoding.

    The encoding is the UTF-16 codec the first bytes call for, else the declared one.
    """
    data = handle.read(_CHUNK)
    # Checked before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one.
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        bad_input(
            path,
            "line 1: ",
            "the file is UTF-32-encoded",
            "tmupload reads UTF-8 and UTF-16 reports: convert it, e.g. iconv -f UTF-32 -t UTF-8",
        )
    utf16 = next((codec for start, codec in _UTF16_STARTS if data.startswith(start)), None)
    # "replace": the scan only looks for markup; expat rejects bad UTF-16 in the body pass.
    decoder = codecs.getincrementaldecoder(utf16)("replace") if utf16 else None
    eof = not data
    view = data if decoder is None else decoder.decode(data, final=eof).encode("utf-8")
    while True:
        encoding = _scan_prolog(path, view, eof=eof)
        if encoding is not None:
            return data, utf16 or encoding
        if len(data) >= _PROLOG_LIMIT:
            bad_input(
                path,
                "",
                f"no root element in the first {_PROLOG_LIMIT:,} bytes",
                "this is not a JUnit XML report: pass the report your test runner wrote",
            )
        more = handle.read(_CHUNK)
        eof = not more
        data += more
        view = data if decoder is None else view + decoder.decode(more, final=eof).encode("utf-8")


def _scan_prolog(path: Path, data: bytes, *, eof: bool) -> str | None:
    """The declared encoding once the root element is found; None when more bytes are needed.

    Only a declaration, processing instructions, comments and whitespace may come before the
    root; a DOCTYPE (and with it any entity declaration) can only appear here, so refusing it
    here keeps entity expansion out of every later parse.
    """
    pos = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    encoding = "utf-8"
    while True:
        while pos < len(data) and data[pos] in b" \t\r\n":
            pos += 1
        if pos >= len(data):
            if not eof:
                return None
            if not data.strip():
                bad_input(
                    path,
                    "",
                    "the file is empty",
                    "the test run probably stopped before writing its report: re-run it, "
                    "or leave the file out (--skip-invalid)",
                )
            bad_input(
                path,
                f"line {_line_of(data, pos)}: ",
                "the file ends before its root element (truncated?)",
                "regenerate the report",
            )
        if data.startswith((b"<?", b"<!--"), pos):
            closing = b"?>" if data.startswith(b"<?", pos) else b"-->"
            end = data.find(closing, pos + 2)
            if end < 0:
                if eof:
                    bad_input(
                        path,
                        f"line {_line_of(data, pos)}: ",
                        "the file ends inside its prolog (truncated?)",
                        "regenerate the report",
                    )
                return None
            if data.startswith(b"<?xml", pos) and pos <= 3:
                declared = _ENCODING.search(data, pos, end)
                if declared:
                    encoding = declared.group(1).decode("ascii").lower()
            pos = end + len(closing)
        elif data.startswith(b"<!", pos):
            if len(data) - pos < 9 and not eof:
                return None
            _refuse_declaration(path, data, pos)
        elif data.startswith(b"<", pos):
            name = _NAME.match(data, pos + 1)
            if name is None or name.end() >= len(data):
                if not eof and (name is not None or pos + 1 >= len(data)):
                    return None
                _not_xml(path, data, pos)
            _check_root(path, data, pos, name.group().decode("ascii"))
            return encoding
        else:
            _not_xml(path, data, pos)


def _refuse_declaration(path: Path, data: bytes, pos: int) -> NoReturn:
    line = f"line {_line_of(data, pos)}: "
    fix = (
        "JUnit reports never need one: remove the <!DOCTYPE ...> block (tmupload refuses DTDs "
        "and entities, which can expand to gigabytes or pull in local files)"
    )
    if data[pos : pos + 9].upper() == b"<!DOCTYPE":
        subset_end = data.find(b"]>", pos)
        entity = data.find(b"<!ENTITY", pos, subset_end if subset_end >= 0 else len(data))
        if entity >= 0:
            bad_input(path, f"line {_line_of(data, entity)}: ", "the file declares an entity", fix)
        bad_input(path, line, "the file declares a DOCTYPE", fix)
    if data.startswith(b"<!ENTITY", pos):
        bad_input(path, line, "the file declares an entity", fix)
    bad_input(path, line, "markup declaration before the root element", "remove it")


def _not_xml(path: Path, data: bytes, pos: int) -> NoReturn:
    snippet = data[pos : pos + 20].decode("utf-8", "replace")
    bad_input(
        path,
        f"line {_line_of(data, pos)}: ",
        f"not an XML file (it starts with {snippet!r})",
        "pass the JUnit XML report your test runner wrote (e.g. --junitxml=report.xml)",
    )


def _check_root(path: Path, data: bytes, pos: int, name: str) -> None:
    if local_name(name.rpartition(":")[2]) not in _ROOTS:
        bad_input(
            path,
            f"line {_line_of(data, pos)}: ",
            f"the root element is <{name}>, not <testsuites> or <testsuite>",
            "this is not a JUnit XML report: pass the report your test runner wrote",
        )


class _Utf8Check:
    """Proves chunk after chunk is UTF-8, tracking lines so an error can name its line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.carry = b""  # an incomplete sequence at the end of the previous chunk
        self.lines = 1  # line number at carry[0]
        self.column = 1  # byte column at carry[0]

    def feed(self, chunk: bytes, *, final: bool) -> None:
        data = self.carry + chunk
        try:
            data.decode("utf-8")
            good = len(data)
        except UnicodeDecodeError as exc:
            tail = exc.reason == "unexpected end of data" and len(data) - exc.start < 4
            if final or not tail:
                self._report(data, exc.start)
            good = exc.start
        self._advance(data, good)
        self.carry = data[good:]

    def _advance(self, data: bytes, good: int) -> None:
        newlines = data.count(b"\n", 0, good)
        if newlines:
            self.lines += newlines
            self.column = good - data.rfind(b"\n", 0, good)
        else:
            self.column += good

    def _report(self, data: bytes, bad: int) -> NoReturn:
        self._advance(data, bad)
        bad_input(
            self.path,
            f"line {self.lines}, column {self.column}: ",
            f"invalid UTF-8 (byte 0x{data[bad]:02x})",
            "write the report as UTF-8 or convert it, e.g. iconv -f ISO-8859-1 -t UTF-8",
        )


def _check_body(path: Path, handle: BinaryIO, head: bytes, encoding: str) -> None:
    """Parse the whole file with expat, building nothing, to prove it well-formed."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: object) -> None:
        # Unreachable after the prolog scan; kept so that no later change can let one through.
        bad_input(
            path,
            f"line {parser.CurrentLineNumber}: ",
            "the file declares a DOCTYPE or an entity",
            "remove it: tmupload refuses DTDs and entities",
        )

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    utf8 = _Utf8Check(path) if encoding in ("utf-8", "utf8") else None
    chunk = head
    while chunk:
        if utf8 is not None:
            utf8.feed(chunk, final=False)
        try:
            parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            _malformed(path, exc, at_end=False)
        chunk = handle.read(_CHUNK)
    if utf8 is not None:
        utf8.feed(b"", final=True)
    try:
        # Everything so far was well-formed: an error now means the input stopped too soon.
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        _malformed(path, exc, at_end=True)


def _malformed(path: Path, exc: expat.ExpatError, *, at_end: bool) -> NoReturn:
    where = f"line {exc.lineno}, column {exc.offset + 1}: "
    if at_end:
        bad_input(
            path,
            where,
            "the file ends before the XML is complete (truncated?)",
            "the test run or the artefact upload was cut short: regenerate the report",
        )
    bad_input(
        path,
        where,
        f"not well-formed XML ({expat.ErrorString(exc.code)})",
        "fix or regenerate the report",
    )


# --- reading --------------------------------------------------------------------------------
