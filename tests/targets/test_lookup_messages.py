"""What the first lookups say when the settings are wrong. A 404 where every server of a kind
answers (qTest's login and project list, Enterprise Tester's ``GET /api``, Zephyr's
``GET /user/current``) is the URL, not the login: the message names the URL tried and the URL
setting, never the credentials. A project that does not exist: the message lists those that do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tmupload.delivery.pipeline import upload
from tmupload.errors import TmUploadError
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve
from tmupload.targets.et.emulator import Emulator as EtEmulator
from tmupload.targets.et.emulator import EmulatorConfig as EtConfig
from tmupload.targets.qtest.emulator import Emulator as QTestEmulator
from tmupload.targets.qtest.emulator import EmulatorConfig as QTestConfig
from tmupload.targets.zephyr.emulator import Emulator as ZephyrEmulator
from tmupload.targets.zephyr.emulator import EmulatorConfig as ZephyrConfig

HOST = "http://server.test"
LOGIN = {"TMUPLOAD_USER": "admin", "TMUPLOAD_PASSWORD": "admin"}
TOKEN = {"TMUPLOAD_TOKEN": "demo-token"}

# target, emulator, credentials, the URL tried first, the URL's example in the message
CASES: list[tuple[str, Any, dict[str, str], str, str]] = [
    (
        "et",
        lambda: EtEmulator(EtConfig(import_delay=0.0)),
        LOGIN,
        f"GET {HOST}/wrong/api answered HTTP 404",
        "e.g. https://et.example.com/EnterpriseTester",
    ),
    (
        "qtest",
        lambda: QTestEmulator(QTestConfig(job_delay=0.0)),
        LOGIN,
        f"POST {HOST}/wrong/oauth/token answered HTTP 404",
        "e.g. https://acme.qtestnet.com",
    ),
    (
        "qtest",
        lambda: QTestEmulator(QTestConfig(job_delay=0.0)),
        TOKEN,
        f"GET {HOST}/wrong/api/v3/projects answered HTTP 404",
        "e.g. https://acme.qtestnet.com",
    ),
    (
        "zephyr",
        lambda: ZephyrEmulator(ZephyrConfig()),
        TOKEN,
        f"GET {HOST}/wrong/flex/services/rest/latest/user/current answered HTTP 404",
        "e.g. https://ze.example.com",
    ),
]


def _run() -> RunReport:
    return RunReport(
        name="r",
        cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)],
    )


@pytest.mark.parametrize(
    ("target", "emulator", "env", "tried", "example"),
    CASES,
    ids=["et", "qtest-login", "qtest-token", "zephyr"],
)
def test_a_404_at_the_first_call_names_the_url_and_blames_it_not_the_login(
    tmp_path: Path, target: str, emulator: Any, env: dict[str, str], tried: str, example: str
) -> None:
    flags = {
        "url": f"{HOST}/wrong",
        "project": "Demo",
        "target": target,
        "outbox": str(tmp_path / "outbox"),
        "allow_insecure_http": True,
    }
    if target == "zephyr":
        flags["release"] = "2026.4"
    settings = resolve(flags, {}, env)
    transport = httpx.WSGITransport(app=emulator())
    outcome = upload(_run(), settings, transport=transport)
    message = str(outcome.error)
    assert isinstance(outcome.error, TmUploadError), message
    assert tried in message
    assert "nothing is there, so --tm-url is probably wrong" in message and example in message
    assert "TMUPLOAD_PASSWORD" not in message and "TMUPLOAD_TOKEN" not in message
    assert "login failed" not in message
    # The command names its own flag.
    cli = resolve(flags, {}, env, flag_style="cli")
    outcome = upload(_run(), cli, transport=transport)
    assert "so --url is probably wrong" in str(outcome.error)


MANY = ["Demo", *(f"Team {i:02}" for i in range(30))]


@pytest.mark.parametrize(
    ("target", "emulator", "env", "said"),
    [
        (
            "et",
            lambda: EtEmulator(EtConfig(import_delay=0.0, projects=MANY)),
            LOGIN,
            "there is no project named 'Dmeo' on the server",
        ),
        (
            "qtest",
            lambda: QTestEmulator(QTestConfig(job_delay=0.0, projects=MANY)),
            TOKEN,
            "there is no qTest project 'Dmeo' visible to this account",
        ),
    ],
)
def test_a_wrong_project_lists_the_projects_that_exist_at_most_twenty(
    tmp_path: Path, target: str, emulator: Any, env: dict[str, str], said: str
) -> None:
    flags = {
        "url": f"{HOST}/EnterpriseTester" if target == "et" else HOST,
        "project": "Dmeo",
        "target": target,
        "outbox": str(tmp_path / "outbox"),
        "allow_insecure_http": True,
    }
    settings = resolve(flags, {}, env, flag_style="cli")
    outcome = upload(_run(), settings, transport=httpx.WSGITransport(app=emulator()))
    message = str(outcome.error)
    assert said in message and "fix --project" in message
    shown = sorted(MANY)[:20]
    assert ", ".join(shown) + ", …" in message
    assert sorted(MANY)[20] not in message
