"""CI shards become one run, on every target: three shards (serial and ``-n 2``) and a shard
the CI ran again spool with ``--tm-defer`` and no credentials, their outbox folders are
gathered into one (as CI artifacts are downloaded), and one ``tmupload send`` makes one run
with every result, link and attachment — exactly once, a lost answer on the way included."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from servers import Server, upload_args

from tmupload.cli.app import main

SHARD_A = """
import pytest

@pytest.mark.ticket("PAY-17")
def test_fail(tm_attach):
    tm_attach(b"screen bytes", name="screen.png", content_type="image/png")
    assert False

def test_pass():
    pass
"""

SHARD_B = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_many(n):
    pass

def test_skip():
    pytest.skip("not here")
"""

# Fails on the first try of the shard, passes when the CI runs the shard again.
SHARD_C = """
import os

def test_flaky():
    assert os.environ.get("SHARD_RETRY") == "1"
"""

EXPECTED = {
    "test_a.py::test_fail": "failed",
    "test_a.py::test_pass": "passed",
    **{f"test_b.py::test_many[{n}]": "passed" for n in range(4)},
    "test_b.py::test_skip": "skipped",
    "test_c.py::test_flaky": "passed",  # the retried shard's: the later one counts
}

_CREDENTIALS = ("TMUPLOAD_USER", "TMUPLOAD_PASSWORD", "TMUPLOAD_TOKEN")


def _shards(
    pytester: pytest.Pytester, server: Server, monkeypatch: pytest.MonkeyPatch, xdist: bool
) -> list[Path]:
    """Run the shards as CI jobs would: spool only, no credentials; their outbox folders.
    ``xdist``: the second shard runs with ``-n 2`` (what a worker spools is then the same as
    a serial shard's, so one test of each target is enough to show it)."""
    pytester.makepyfile(test_a=SHARD_A, test_b=SHARD_B, test_c=SHARD_C)
    credentials = {name: value for name, value in server.credentials().items() if value}
    for name in _CREDENTIALS:
        monkeypatch.delenv(name, raising=False)
    outboxes = []
    jobs = [
        ("1", ["test_a.py"], {}),
        ("2", ["test_b.py", *(["-n", "2"] if xdist else [])], {}),
        ("3", ["test_c.py"], {}),
        ("3-retry", ["test_c.py"], {"SHARD_RETRY": "1"}),
    ]
    for name, args, env in jobs:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        outbox = pytester.path / f"outbox-{name}"
        result = pytester.runpytest_subprocess(
            *upload_args(server, outbox, "--tm-defer", "--tm-run-key", "pipeline-42"), *args
        )
        assert "spooled" in result.stdout.str(), result.stdout.str()
        outboxes.append(outbox)
    for name, value in credentials.items():
        monkeypatch.setenv(name, value)
    return outboxes


def _gather(outboxes: list[Path], into: Path) -> None:
    """Copy every shard's entries side by side (download-artifact with merge-multiple)."""
    into.mkdir()
    for outbox in outboxes:
        for entry in outbox.iterdir():
            shutil.copytree(entry, into / entry.name)


@pytest.mark.parametrize("way", ["gathered", "folders-lost-answer"])
def test_shards_spooled_apart_become_one_run_with_every_result_link_and_file(
    pytester: pytest.Pytester, server: Server, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    """``gathered``: the shards' entries copied into one folder, one shard run with -n 2.
    ``folders-lost-answer``: the shards' own folders, each named with ``--outbox``, and the
    answer to the upload lost on the way."""
    gathered = way == "gathered"
    outboxes = _shards(pytester, server, monkeypatch, xdist=gathered)
    assert server.writes() == []  # spooling sent nothing
    if gathered:
        folders = [pytester.path / "artifacts"]
        _gather(outboxes, folders[0])
    else:
        folders = outboxes
        server.drop_next_upload_answer()
    where = [arg for folder in folders for arg in ("--outbox", str(folder))]
    first = main(["send", *where])
    if not gathered and first != 0:
        assert main(["send", *where]) == 0
    else:
        assert first == 0
    assert server.uploads() == 1
    assert server.landed() == EXPECTED
    assert server.links() == {("test_a.py::test_fail", "PAY-17")}
    files = dict(server.attachments()["test_a.py::test_fail"])
    assert "screen.png" in files
    assert all(list(folder.iterdir()) == [] for folder in folders)
    # A second send finds nothing and sends nothing.
    writes = len(server.writes())
    assert main(["send", *where]) == 0
    assert len(server.writes()) == writes and server.uploads() == 1
