"""The look every emulator's HTML page shares: the document, the style sheet, status badges.

The pages are small and dependency-free; every value they show goes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["BASE_CSS", "bullet_list", "html_page", "status_badge"]

#: The style every page starts from; a page appends the classes of its own statuses.
BASE_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:72em;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:.8em 0 .3em}ul{margin:.2em 0;padding-left:1.3em}
code,.id{font:12px ui-monospace,monospace;color:#777}
table{border-collapse:collapse;width:100%;margin:.3em 0 .8em}
td,th{border-bottom:1px solid #eee;padding:.15em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6}.num{text-align:right;white-space:nowrap}
.st{display:inline-block;border-radius:3px;padding:0 .4em;color:#fff;font-size:12px}
"""


def html_page(title: str, body: str, css: str = BASE_CSS) -> str:
    """A whole HTML document (``title`` is escaped here; ``body`` is HTML already)."""
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)}</title><style>{css}</style></head>"
        f"<body>{body}</body></html>"
    )


def status_badge(status: str) -> str:
    """A coloured badge; its class is ``st-`` and the status, lower case, without spaces."""
    css = "st-" + status.replace(" ", "").lower()
    return f'<span class="st {escape(css)}">{escape(status)}</span>'


def bullet_list(items: Sequence[str], css_class: str = "", empty: str = "") -> str:
    """A ``<ul>`` of ``items`` (each a ``<li>`` already), or ``empty`` when there are none."""
    if not items:
        return empty
    opening = f"<ul class={css_class}>" if css_class else "<ul>"
    return f"{opening}{''.join(items)}</ul>"
