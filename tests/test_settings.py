"""Settings: precedence flag > env > ini > default, validation messages naming every spelling."""

from __future__ import annotations

from pathlib import Path

import pytest

from tmupload.errors import ConfigError
from tmupload.settings import Settings, resolve


def test_precedence_flag_over_env_over_ini_over_default() -> None:
    settings = resolve(
        {"project": "FromFlag"},
        {"project": "FromIni", "automated_test": "IniTest", "timeout": "12"},
        {"TMUPLOAD_PROJECT": "FromEnv", "TMUPLOAD_AUTOMATED_TEST": "EnvTest"},
    )
    assert settings.project == "FromFlag"
    assert settings.option("automated_test") == "EnvTest"
    assert settings.timeout == 12.0
    assert settings.option("execution_package") == "Automated Runs"


def test_bad_value_names_flag_ini_and_env() -> None:
    with pytest.raises(ConfigError) as info:
        resolve({}, {"link_concurrency": "many"}, {})
    message = str(info.value)
    assert "ini key tm_link_concurrency" in message
    assert "--tm-link-concurrency" in message and "TMUPLOAD_LINK_CONCURRENCY" in message


def test_bad_choice_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match="one of warn, fail"):
        resolve({"on_error": "explode"}, {}, {})


def test_password_comes_from_env_or_file_never_a_flag(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    from_file = resolve({"password_file": str(secret)}, {}, {"TMUPLOAD_PASSWORD": "other"})
    assert from_file.password is not None
    assert from_file.password.get_secret_value() == "s3cret"
    from_env = resolve({}, {}, {"TMUPLOAD_PASSWORD": "envpw"})
    assert from_env.password is not None and from_env.password.get_secret_value() == "envpw"
    assert "s3cret" not in repr(from_file) and "s3cret" not in str(from_file.safe_dump())


def test_missing_password_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the password file"):
        resolve({"password_file": str(tmp_path / "nope")}, {}, {})


def _complete(**overrides: str) -> Settings:
    values = {"url": "http://127.0.0.1:1/EnterpriseTester", "project": "Demo", "user": "u"}
    values.update(overrides)
    return resolve(values, {}, {"TMUPLOAD_PASSWORD": "pw"})


def test_require_target_names_what_is_missing() -> None:
    with pytest.raises(ConfigError, match=r"--tm-url.*--tm-project"):
        resolve({}, {}, {}).require_target()
    with pytest.raises(ConfigError, match="TMUPLOAD_PASSWORD"):
        resolve(
            {"url": "https://et.example.com", "project": "P", "user": "u"}, {}, {}
        ).require_target()
    _complete().require_target()


def test_plain_http_to_a_remote_host_is_refused_unless_allowed() -> None:
    with pytest.raises(ConfigError, match="plain http"):
        _complete(url="http://et.example.com/EnterpriseTester").require_target()
    _complete(url="http://et.example.com/ET", allow_insecure_http="1").require_target()
    _complete(url="https://et.example.com/ET").require_target()


def test_url_is_checked_and_normalised() -> None:
    assert _complete(url="https://et.example.com/EnterpriseTester/").url == (
        "https://et.example.com/EnterpriseTester"
    )
    with pytest.raises(ConfigError, match="must start with https://"):
        _complete(url="ftp://et.example.com")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://127.0.0.1:510879/EnterpriseTester", "the port '510879' is not a number"),
        ("http://127.0.0.1:0/EnterpriseTester", "the port '0' is not a number"),
        ("https://et.example.com:https/ET", "the port 'https' is not a number"),
        ("http:///EnterpriseTester", "names no host"),
        ("et.example.com/EnterpriseTester", "must start with https://"),
        ("ftp://et.example.com", "must start with https:// (or http://), not ftp://"),
        ("http://[::1/EnterpriseTester", "is not a URL"),
        ("https://et.example.com/Enterprise Tester", "holds a space"),
    ],
)
def test_a_url_that_cannot_be_one_is_one_line_naming_the_flag_and_the_fix(
    url: str, says: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _complete(url=url)
    message = str(info.value)
    assert says in message
    assert message.startswith("invalid setting --tm-url (ini tm_url, env TMUPLOAD_URL): ")
    assert "e.g. https://et.example.com/EnterpriseTester" in message
    assert "\n" not in message and "Value error" not in message
    # The command names its own flag, and the example fits the chosen server.
    with pytest.raises(ConfigError) as info:
        resolve({"url": url, "target": "qtest"}, {}, {}, flag_style="cli")
    assert str(info.value).startswith("invalid setting --url (env TMUPLOAD_URL): ")
    assert "e.g. https://acme.qtestnet.com" in str(info.value)


def test_link_on_accepts_only_known_outcomes() -> None:
    assert _complete(link_on="failed,xfailed").link_on == ("failed", "xfailed")
    with pytest.raises(ConfigError, match="unknown outcome"):
        _complete(link_on="failed,passed")


def test_a_login_in_the_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as info:
        resolve({"url": "https://admin:s3cret@et.example.com/EnterpriseTester"}, {}, {})
    message = str(info.value)
    assert "s3cret" not in message and "admin" not in message
    assert "--tm-url" in message and "TMUPLOAD_PASSWORD" in message
    with pytest.raises(ConfigError) as info:
        resolve({"url": "https://admin:s3cret@[::1/EnterpriseTester"}, {}, {})
    assert "s3cret" not in str(info.value) and "is not a URL" in str(info.value)


def test_a_registered_target_is_a_choice_everywhere_and_the_default_stays_et() -> None:
    from tmupload.cli.app import build_parser
    from tmupload.targets import registry

    assert resolve({}, {}, {}).target == "et"
    registry.register("sketch", "sketch_target.spec")
    try:
        settings = resolve({"target": "sketch", "sketch_log": "calls.jsonl"}, {}, {})
        assert settings.option("sketch_log") == Path("calls.jsonl")
        (target,) = (spec for spec in registry.all_options() if spec.name == "target")
        assert (target.choices, target.default) == (("et", "qtest", "zephyr", "sketch"), "et")
        assert target.help.endswith(", zephyr (Zephyr Enterprise), sketch (Sketch Server)")
        # A bad URL for it shows a generic example (the sketch names none of its own).
        with pytest.raises(ConfigError, match=r"e\.g\. https://tm\.example\.com"):
            resolve({"target": "sketch", "url": "ftp://x"}, {}, {})
        assert build_parser().parse_args(["emulator", "--target", "sketch"]).target == "sketch"
    finally:
        registry.unregister("sketch")
    assert "sketch" not in registry.target_names()
