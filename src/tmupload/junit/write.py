"""Writing JUnit XML: one streaming writer and one escaper, for every target that sends JUnit."""

from __future__ import annotations

import re

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
    element, which shows on runs of 100,000 cases. Empty elements are written as ``<x/>``."""

    def __init__(self) -> None:
        self.parts: list[str] = ['<?xml version="1.0" encoding="utf-8"?>\n']
        self._open_tag_pending = False

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

    def getvalue(self) -> bytes:
        return "".join(self.parts).encode("utf-8")
