"""Help a new user reads: every command's --help shows the defaults, a near miss among the
choices gets a suggestion, and the help words each setting without jargon clashes."""

from __future__ import annotations

import pytest

from tmupload.cli.app import main


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # argparse wraps: compare unwrapped


@pytest.mark.parametrize(
    ("command", "shown"),
    [
        ("check", ["which server: et", "(default: et)", "[env TMUPLOAD_TIMEOUT] (default: 30.0)"]),
        ("resend", ["(default: .tmupload/outbox)", "(default: failed,error)", "(default: 8)"]),
        ("import", ["(default: output)", "(default: 10000000)", "(default: Automation)"]),
        ("demo", ["(default: et)", "(default: examples/suite)", "(default: 0)"]),
    ],
)
def test_every_command_s_help_shows_the_defaults(
    capsys: pytest.CaptureFixture[str], command: str, shown: list[str]
) -> None:
    text = _help(capsys, command)
    for words in shown:
        assert words in text
    assert "(default: None)" not in text and "(default: False)" not in text


def test_the_help_words_attach_and_the_repository_folder_plainly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = _help(capsys, "import")
    assert "files the tests attach with the tm_attach fixture always go" in text
    assert "the top repository folder the test cases go under" in text
    assert "(phase)" not in text


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["check", "--target", "qtset"], "'qtset'; did you mean 'qtest'?"),
        (["check", "--target", "Zepher"], "'Zepher'; did you mean 'zephyr'?"),
        (["import", "r.xml", "--attach", "outptu"], "'outptu'; did you mean 'output'?"),
    ],
)
def test_a_near_miss_in_a_setting_s_choices_gets_a_suggestion(
    capsys: pytest.CaptureFixture[str], argv: list[str], meant: str
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert meant in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "meant"),
    [
        (["chek"], "invalid choice: 'chek'; did you mean 'check'?"),
        (["demo", "--target", "qtset"], "invalid choice: 'qtset'; did you mean 'qtest'?"),
        (["outbox", "lsit"], "invalid choice: 'lsit'; did you mean 'list'?"),
    ],
)
def test_a_near_miss_in_a_command_s_own_choices_gets_a_suggestion(
    capsys: pytest.CaptureFixture[str], argv: list[str], meant: str
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert meant in capsys.readouterr().err
