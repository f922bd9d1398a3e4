"""The README's configuration table is generated from the option definitions: keep it in sync."""

from __future__ import annotations

from pathlib import Path

from tmupload.targets.registry import all_options

README = Path(__file__).resolve().parent.parent / "README.md"


def options_table() -> str:
    rows = [
        "| flag | ini | env | default | targets | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for spec in all_options():
        default = spec.default
        if isinstance(default, tuple):
            default = ",".join(default)
        shown = "" if default in (None, False) else f"`{default}`"
        targets = ", ".join(spec.targets) if spec.targets else "all"
        rows.append(
            f"| `{spec.flag}` | `{spec.ini}` | `{spec.env}` | {shown} | {targets} | {spec.help} |"
        )
    return "\n".join(rows)


def test_readme_has_the_current_options_table() -> None:
    assert options_table() in README.read_text(encoding="utf-8"), (
        "README.md's configuration table is stale; paste tests/test_readme.py:options_table()"
    )
