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


def _section(start: str, end: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_two_terminal_example_covers_every_target_on_one_uncommon_port() -> None:
    import re

    from tmupload.targets.zephyr.emulator import EmulatorConfig as ZephyrConfig

    section = _section("Try it locally against an emulator", "## Credentials")
    ports = set(re.findall(r"127\.0\.0\.1:(\d+)", section)) | set(
        re.findall(r"--port (\d+)", section)
    )
    assert ports == {"8765"}, ports  # 8080 is often taken by something else
    for target in ("qtest", "zephyr"):
        assert f"tmupload emulator --target {target} --port 8765" in section
        assert f"--tm-target {target}" in section
    # The Zephyr line uses what its emulator has: the token and a release of project Demo.
    config = ZephyrConfig()
    assert "demo-token" in config.tokens
    release = config.projects["Demo"][0]
    assert f"--tm-project Demo --tm-release {release}" in section
