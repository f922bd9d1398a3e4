"""Writing JUnit XML: one streaming writer and one escaper, for every target that sends JUnit."""

from __future__ import annotations

import re
from typing import BinaryIO

__all__ = ["XmlWriter", "escape_attr", "escape_text", "xml_text"]

# Characters XML 1.0 cannot carry at all (control characters, lone surrogates).
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot carry written as ``\\xNN`` (the rest is kept)."""
    return _ILLEGAL_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    # Newlines and tabs as references, or a parser would fold them into spaces.
    return (
        escape_text(text)
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


class XmlWriter:
    """A minimal streaming XML writer: ``xml.sax``'s XMLGenerator costs several times more per
    element, which shows on runs of 100,000 cases. Empty elements are written as ``<x/>``.

    Without ``out`` the document is kept and :meth:`getvalue` returns it. With ``out`` (a
    binary file) the caller calls :meth:`spill` now and then (e.g. after each testcase) and
    :meth:`close` at the end: what is written so far goes to ``out`` as UTF-8, so only a few
    thousand pieces are ever held, whatever the size of the document; ``size`` counts the
    bytes written.
    """

    SPILL_AT = 4096  # pieces held before :meth:`spill` writes them out

    def __init__(self, out: BinaryIO | None = None) -> None:
        self.parts: list[str] = ['<?xml version="1.0" encoding="utf-8"?>\n']
        self._open_tag_pending = False
        self._out = out
        self.size = 0

    def _flush(self) -> None:
        if self._open_tag_pending:
            self.parts.append(">")
            self._open_tag_pending = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self._flush()
        rendered = "".join(f' {key}="{escape_attr(value)}"' for key, value in attrs.items())
        self.parts.append(f"<{tag}{rendered}")
        self._open_tag_pending = True

    def text(self, text: str) -> None:
        self._flush()
        self.parts.append(escape_text(text))

    def end(self, tag: str) -> None:
        if self._open_tag_pending:
            self.parts.append("/>")
            self._open_tag_pending = False
        else:
            self.parts.append(f"</{tag}>")

    def raw(self, markup: str) -> None:
        """Append ``markup`` written elsewhere (by :meth:`fragment` of another writer) as is."""
        self._flush()
        self.parts.append(markup)

    def fragment(self) -> str:
        """What was written, without the XML declaration: a piece for :meth:`raw`."""
        self._flush()
        return "".join(self.parts[1:])

    def spill(self, *, force: bool = False) -> None:
        """Write the pieces held so far to ``out`` once there are many (or now: ``force``)."""
        if self._out is None or not self.parts or (len(self.parts) < self.SPILL_AT and not force):
            return
        data = "".join(self.parts).encode("utf-8")
        self.parts.clear()
        self._out.write(data)
        self.size += len(data)

    def close(self) -> None:
        """Write what is left to ``out`` (the document must be complete)."""
        self.spill(force=True)

    def getvalue(self) -> bytes:
        return "".join(self.parts).encode("utf-8")
