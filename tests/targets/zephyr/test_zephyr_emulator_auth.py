"""Auth (docs/servers/zephyr.md §3): Bearer, Basic, the manifest cookie, their failures and
read-only users."""

from __future__ import annotations

import base64
import json

import httpx
from zephyr_emulator_helpers import BASE_URL

from tmupload.targets.zephyr.emulator import Emulator, EmulatorConfig


def test_bearer_token_identifies_the_user(client: httpx.Client) -> None:
    user = client.get("/user/current").json()
    assert user["username"] == "admin"
    assert isinstance(user["id"], int)
    assert user["roles"] and "name" in user["roles"][0]


def test_basic_auth_identifies_the_user(anonymous: httpx.Client) -> None:
    response = anonymous.get("/user/current", auth=("admin", "admin"))
    assert response.status_code == 200
    assert response.json()["username"] == "admin"


def test_v3_prefix_serves_the_same_api(emu: Emulator) -> None:
    transport = httpx.WSGITransport(app=emu)
    with httpx.Client(transport=transport, base_url="http://ze.test") as http:
        auth = ("admin", "admin")
        assert http.get("/flex/services/rest/v3/user/current", auth=auth).status_code == 200
        # docs/servers/zephyr.md §5.4: v4 is used for the system preferences only
        assert http.get("/flex/services/rest/v4/user/current", auth=auth).status_code == 404
        prefs = http.get(
            "/flex/services/rest/v4/admin/preference/all/system",
            params={"name": "cycle.environment.enabled"},
            auth=auth,
        )
        assert prefs.json() == [{"name": "cycle.environment.enabled", "value": "false"}]


def _assert_401_shape(response: httpx.Response) -> None:
    # docs/servers/zephyr.md §6 [CLIENT]: errorCode in the body; ``message`` is JSON holding another
    # message
    assert response.status_code == 401
    body = response.json()
    assert "errorCode" in body
    inner = json.loads(body["message"])
    assert isinstance(inner["message"], str) and inner["message"]


def test_wrong_password_is_401_with_the_nested_message(anonymous: httpx.Client) -> None:
    _assert_401_shape(anonymous.get("/user/current", auth=("admin", "nope")))


def test_unknown_token_is_401(anonymous: httpx.Client) -> None:
    response = anonymous.get("/user/current", headers={"Authorization": "Bearer nope"})
    _assert_401_shape(response)


def test_missing_credentials_is_401(anonymous: httpx.Client) -> None:
    _assert_401_shape(anonymous.get("/project"))


def test_non_ascii_basic_credentials_are_refused() -> None:
    # docs/servers/zephyr.md §3: Basic needs ASCII; such a user must use a token
    config = EmulatorConfig(users={"jürgen": "pässword"}, tokens={"t-1": "jürgen"})
    transport = httpx.WSGITransport(app=Emulator(config))
    with httpx.Client(transport=transport, base_url=BASE_URL) as http:
        header = "Basic " + base64.b64encode("jürgen:pässword".encode()).decode()
        assert http.get("/user/current", headers={"Authorization": header}).status_code == 401
        token = {"Authorization": "Bearer t-1"}
        assert http.get("/user/current", headers=token).json()["username"] == "jürgen"


def test_readonly_user_reads_but_cannot_write(anonymous: httpx.Client) -> None:
    viewer = ("viewer", "viewer")
    assert anonymous.get("/project", auth=viewer).status_code == 200
    body = {"name": "X", "type": "Phase", "releaseId": 1, "description": ""}
    response = anonymous.post("/testcasetree", params={"parentid": 0}, json=body, auth=viewer)
    assert response.status_code == 403
    error = response.json()
    assert error["errorCode"] and "viewer" in error["message"]


def test_manifest_cookie_session(anonymous: httpx.Client) -> None:
    # docs/servers/zephyr.md §3: GET /manifest with Basic sets a ``token`` cookie for later calls
    response = anonymous.get("/manifest", auth=("admin", "admin"))
    assert response.status_code == 200
    assert "token=" in response.headers["set-cookie"]
    assert "Path=/flex" in response.headers["set-cookie"]
    token = response.cookies["token"]
    again = anonymous.get("/user/current", headers={"Cookie": f"token={token}"})
    assert again.status_code == 200 and again.json()["username"] == "admin"
    assert anonymous.get("/manifest").status_code == 401
