"""The HTTP client: which failures are retried, and what the user reads when one is final."""

from __future__ import annotations

import httpx
import pytest
from pytest_httpx import HTTPXMock

from tmupload.errors import ServerProtocolError, ServerRejected, ServerUnavailable, TransportError
from tmupload.http.auth import basic_auth
from tmupload.http.client import HttpClient
from tmupload.settings import resolve

BASE = "https://et.example.com/EnterpriseTester"


def _client() -> HttpClient:
    settings = resolve(
        {"url": BASE, "project": "P", "user": "bot"}, {}, {"TMUPLOAD_PASSWORD": "pw"}
    )
    return HttpClient(settings, auth=basic_auth(settings))


def test_503_then_success_is_retried(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/api", status_code=503)
    httpx_mock.add_response(url=f"{BASE}/api", status_code=429, headers={"Retry-After": "2"})
    httpx_mock.add_response(url=f"{BASE}/api", json={"Links": []})
    with _client() as client:
        assert client.request("GET", "api").json() == {"Links": []}
        assert client.requests_sent == 3


def test_persistent_503_ends_as_server_unavailable(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/api", status_code=503, json={"Message": "maintenance"}, is_reusable=True
    )
    with _client() as client, pytest.raises(ServerUnavailable, match="maintenance") as info:
        client.request("GET", "api")
    assert info.value.status == 503
    assert client.requests_sent == 5


def test_read_timeout_is_retried_for_get(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=f"{BASE}/api")
    httpx_mock.add_response(url=f"{BASE}/api", json={})
    with _client() as client:
        client.request("GET", "api")
        assert client.requests_sent == 2


def test_read_timeout_is_not_retried_for_post(httpx_mock: HTTPXMock) -> None:
    # The POST may have been applied: sending it again could create a second run.
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=f"{BASE}/api/things")
    with _client() as client, pytest.raises(TransportError, match="did not answer in time"):
        client.request("POST", "api/things", json={})
    assert client.requests_sent == 1


def test_connect_error_is_retried_even_for_post(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_exception(httpx.ConnectError("refused"), url=f"{BASE}/api/things")
    httpx_mock.add_response(url=f"{BASE}/api/things", status_code=201, json={})
    with _client() as client:
        assert client.request("POST", "api/things", json={}, ok=(201,)).status_code == 201


def test_401_explains_the_credentials(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/api", status_code=401, json={"Message": "no"})
    with _client() as client, pytest.raises(ServerRejected) as info:
        client.request("GET", "api")
    assert "TMUPLOAD_USER" in str(info.value) and "TMUPLOAD_PASSWORD" in str(info.value)
    assert "pw" not in str(info.value).replace("PASSWORD", "")
    assert client.requests_sent == 1


def test_403_carries_the_server_message(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(
        url=f"{BASE}/api/x", status_code=403, json={"Message": "The package is not empty."}
    )
    with _client() as client, pytest.raises(ServerRejected, match="The package is not empty"):
        client.request("GET", "api/x")


def test_another_origin_is_refused_before_sending() -> None:
    with _client() as client, pytest.raises(ServerProtocolError, match="never sends credentials"):
        client.request("GET", "https://evil.example.net/api/backgroundtask/1")
    assert client.requests_sent == 0


def test_basic_auth_goes_only_to_the_configured_server(httpx_mock: HTTPXMock) -> None:
    httpx_mock.add_response(url=f"{BASE}/api", json={})
    with _client() as client:
        client.request("GET", "api")
    request = httpx_mock.get_request()
    assert request is not None
    assert request.headers["Authorization"].startswith("Basic ")
