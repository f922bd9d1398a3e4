"""Authentication of the qTest emulator (docs/servers/qtest.md §3): static tokens, /oauth/token,
read-only users."""

from __future__ import annotations

import base64

import httpx
import pytest
from qtest_emulator_helpers import BASE_URL

from tmupload.emulation import ManualClock
from tmupload.targets.qtest.emulator import Emulator, EmulatorConfig


def basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()}


@pytest.fixture
def anon(emu: Emulator) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL)


def login(anon: httpx.Client, user: str = "admin", password: str = "admin") -> httpx.Response:
    return anon.post(
        "/oauth/token",
        headers=basic("acme"),
        data={"grant_type": "password", "username": user, "password": password},
    )


def test_static_bearer_token_reads_projects(client: httpx.Client) -> None:
    response = client.get("/api/v3/projects")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()] == ["Demo"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nope", "Basic YWRtaW46YWRtaW4=", "demo-token"],
    ids=["missing", "unknown-token", "basic", "no-scheme"],
)
def test_bad_or_missing_token_is_401_with_message(anon: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = anon.get("/api/v3/projects", headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["message"], str)  # docs/servers/qtest.md §9: ErrorMessage


def test_scheme_word_is_case_insensitive(anon: httpx.Client) -> None:
    assert anon.get("/api/v3/projects", headers={"Authorization": "bearer demo-token"}).is_success


def test_password_login_gives_a_working_token(anon: httpx.Client) -> None:
    response = login(anon)
    assert response.status_code == 200
    token = response.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 300
    auth = {"Authorization": f"{token['token_type']} {token['access_token']}"}
    assert anon.get("/api/v3/projects", headers=auth).status_code == 200
    status = anon.get("/oauth/status", headers=auth).json()
    assert 0 < status["validityInMilliseconds"] <= 300_000
    # a refresh token is not an access token
    refresh = {"Authorization": f"bearer {token['refresh_token']}"}
    assert anon.get("/api/v3/projects", headers=refresh).status_code == 401


def test_login_failures(anon: httpx.Client) -> None:
    assert login(anon, password="wrong").status_code == 401
    no_basic = anon.post("/oauth/token", data={"username": "admin", "password": "admin"})
    assert no_basic.status_code == 401
    assert "Authorization" in no_basic.json()["message"]
    bad_grant = anon.post(
        "/oauth/token", headers=basic("acme"), data={"grant_type": "client_credentials"}
    )
    assert bad_grant.status_code == 400


def test_site_name_is_checked_when_configured() -> None:
    emu = Emulator(EmulatorConfig(site_name="acme"))
    anon = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL)
    form = {"grant_type": "password", "username": "admin", "password": "admin"}
    assert anon.post("/oauth/token", headers=basic("other"), data=form).status_code == 401
    assert anon.post("/oauth/token", headers=basic("acme"), data=form).status_code == 200


def test_refresh_token_grant(anon: httpx.Client) -> None:
    refresh_token = login(anon).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    assert anon.post("/oauth/token", headers=basic("acme"), data=form).status_code == 401
    fresh = anon.post("/oauth/token", headers=basic("qtest-api"), data=form)
    assert fresh.status_code == 200
    assert fresh.json()["access_token"]
    form["refresh_token"] = "bogus"
    assert anon.post("/oauth/token", headers=basic("qtest-api"), data=form).status_code == 400


def test_access_token_expires() -> None:
    clock = ManualClock()
    emu = Emulator(EmulatorConfig(token_lifetime=300.0, clock=clock))
    anon = httpx.Client(transport=httpx.WSGITransport(app=emu), base_url=BASE_URL)
    token = login(anon).json()["access_token"]
    auth = {"Authorization": f"bearer {token}"}
    assert anon.get("/api/v3/projects", headers=auth).status_code == 200
    clock.advance(299.0)
    assert anon.get("/api/v3/projects", headers=auth).status_code == 200
    clock.advance(2.0)
    expired = anon.get("/api/v3/projects", headers=auth)
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]


def test_readonly_user_reads_but_cannot_write(anon: httpx.Client, project_id: int) -> None:
    token = login(anon, "viewer", "viewer").json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert anon.get(f"/api/v3/projects/{project_id}/test-cycles", headers=auth).is_success
    search = anon.post(
        f"/api/v3/projects/{project_id}/search",
        headers=auth,
        json={"object_type": "test-cycles", "fields": ["*"], "query": ""},
    )
    assert search.status_code == 200  # search is a read
    for path, body in [
        (f"/api/v3/projects/{project_id}/test-cycles", {"name": "X"}),
        (f"/api/v3/projects/{project_id}/auto-test-logs?type=automation", {"test_logs": []}),
    ]:
        response = anon.post(path, headers=auth, json=body)
        assert response.status_code == 403
        assert "permission" in response.json()["message"]
