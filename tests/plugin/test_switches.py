"""Switches a user flips in a shared ini or the environment: never silently ignored."""

from __future__ import annotations

import pytest

SUITE = "def test_ok():\n    pass\n"
BAD_MARKER = """
import pytest

@pytest.mark.ticket("not a key")
def test_bad():
    pass

def test_other():
    pass
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TMUPLOAD_UPLOAD", "TMUPLOAD_DRY_RUN", "TMUPLOAD_NO_UPLOAD", "TMUPLOAD_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TMUPLOAD_USER", raising=False)
    monkeypatch.delenv("TMUPLOAD_PASSWORD", raising=False)


@pytest.mark.parametrize("where", ["env", "ini"])
def test_a_misspelt_upload_switch_is_an_error_not_a_silent_off(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    pytester.makepyfile(test_a=SUITE)
    if where == "env":
        monkeypatch.setenv("TMUPLOAD_UPLOAD", "ture")
    else:
        pytester.makeini("[pytest]\ntm_upload = ture\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    source = "TMUPLOAD_UPLOAD" if where == "env" else "tm_upload"
    result.stderr.fnmatch_lines([f"*{source}*must be true or false, not 'ture'*"])


def test_a_dry_run_alone_implies_the_upload_intent(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest("--tm-dry-run", "-p", "no:cacheprovider")
    # Nothing configured: the dry run says what is missing instead of doing nothing silently.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*tmupload: upload needs --tm-url*"])


def test_upload_on_in_a_shared_ini_names_the_way_out_and_no_upload_takes_it(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_a=SUITE)
    pytester.makeini("[pytest]\ntm_upload = true\n")
    stopped = pytester.runpytest("-p", "no:cacheprovider")
    assert stopped.ret == pytest.ExitCode.USAGE_ERROR
    stopped.stderr.fnmatch_lines(["*to run the tests without uploading, add --tm-no-upload*"])
    local = pytester.runpytest("--tm-no-upload", "-p", "no:cacheprovider")
    assert local.ret == pytest.ExitCode.OK
    local.assert_outcomes(passed=1)


def test_a_malformed_ticket_key_only_warns_when_not_uploading(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_markers=BAD_MARKER)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*test_markers.py::test_bad*'not a key' is not a ticket key*"])


def test_a_malformed_ticket_key_stops_an_upload_before_the_tests_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "u")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "p")
    pytester.makepyfile(test_markers=BAD_MARKER)
    result = pytester.runpytest(
        "--tm-upload",
        "--tm-url=http://127.0.0.1:9/ET",
        "--tm-project=P",
        f"--tm-outbox={pytester.path / 'outbox'}",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_markers.py::test_bad*'not a key' is not a ticket key*"])
    assert not (pytester.path / "outbox").exists()


def test_a_url_with_a_port_out_of_range_stops_pytest_before_the_tests_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMUPLOAD_USER", "u")
    monkeypatch.setenv("TMUPLOAD_PASSWORD", "p")
    pytester.makepyfile(test_a="def test_ok():\n    print('the test ran')\n")
    result = pytester.runpytest_subprocess(
        "--tm-upload",
        "--tm-url=http://127.0.0.1:510879/EnterpriseTester",
        "--tm-project=P",
        f"--tm-outbox={pytester.path / 'outbox'}",
        "-p",
        "no:cacheprovider",
        "-s",
    )
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Traceback" not in output and "the test ran" not in output
    result.stderr.fnmatch_lines(
        ["*tmupload: invalid setting --tm-url*the port '510879' is not a number from 1 to 65535*"]
    )
    assert not (pytester.path / "outbox").exists()


def test_a_misspelt_target_gets_a_suggestion(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a=SUITE)
    result = pytester.runpytest("--tm-upload", "--tm-target", "qtset", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--tm-target must be one of*not 'qtset'; did you mean 'qtest'?*"])


def test_pytest_help_words_attach_and_the_repository_folder_plainly(
    pytester: pytest.Pytester,
) -> None:
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())
    assert "files the tests attach with the tm_attach fixture always go" in text
    assert "the top repository folder the test cases go under" in text
    assert "(default: Automation)" in text
