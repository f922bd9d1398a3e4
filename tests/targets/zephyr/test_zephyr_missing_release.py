"""A Zephyr upload without --tm-release: the message lists the project's releases to pick
from (as a wrong release's message does), read from the server when it can be asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from zephyr_target_helpers import ZLive, start_zephyr

from tmupload.errors import ConfigError
from tmupload.settings import resolve

__all__ = ["start_zephyr"]  # the fixture used here

RELEASES = [f"2026.{i}" for i in range(1, 26)]


def _no_release(url: str, style: str = "cli") -> ConfigError:
    settings = resolve(
        {"url": url, "project": "Demo", "target": "zephyr"},
        {},
        {"TMUPLOAD_TOKEN": "demo-token"},
        flag_style=style,  # type: ignore[arg-type]
    )
    with pytest.raises(ConfigError) as info:
        settings.require_target()
    return info.value


def test_the_message_lists_the_project_s_releases(
    start_zephyr: Callable[..., ZLive],
) -> None:
    live = start_zephyr(projects={"Demo": ["2026.4", "2026.5"]})
    message = str(_no_release(live.url))
    assert message.startswith("upload needs --release (env TMUPLOAD_RELEASE)")
    assert "the releases of the project 'Demo': 2026.4, 2026.5" in message
    assert {method for method, _, _ in live.emulator.requests} == {"GET"}


def test_at_most_twenty_releases_are_listed(start_zephyr: Callable[..., ZLive]) -> None:
    live = start_zephyr(projects={"Demo": RELEASES})
    message = str(_no_release(live.url))
    assert ", ".join(RELEASES[:20]) + ", … (25 in all)" in message
    assert RELEASES[20] not in message


def test_without_a_server_to_ask_the_message_comes_without_the_list() -> None:
    message = str(_no_release("http://127.0.0.1:9", style="pytest"))
    assert message.startswith("upload needs --tm-release (ini tm_release, env TMUPLOAD_RELEASE)")
    assert "releases of the project" not in message


def test_pytest_stops_before_the_tests_with_the_releases(
    pytester: pytest.Pytester, start_zephyr: Callable[..., ZLive], tmp_path: Path
) -> None:
    live = start_zephyr()
    pytester.makepyfile(test_a="def test_ok():\n    pass\n")
    result = pytester.runpytest_subprocess(
        "--tm-upload", "--tm-target", "zephyr", "--tm-url", live.url, "--tm-project", "Demo",
        f"--tm-outbox={tmp_path / 'outbox'}", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*upload needs --tm-release*the releases of the project 'Demo': 2026.4*"]
    )
    assert not (tmp_path / "outbox").exists()
