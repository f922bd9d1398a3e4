"""TLS: verification on by default, --tm-ca-bundle for a private CA, --tm-client-cert for mTLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from live import PASSWORD, USER
from tmupload.delivery.pipeline import upload
from tmupload.models import CaseResult, Outcome, RunReport
from tmupload.settings import resolve
from tmupload.targets.et.emulator import Emulator, EmulatorServer, serve_in_thread

RUN = RunReport(
    cases=[CaseResult(case_id="t.py::t", suite="t.py", name="t", outcome=Outcome.PASSED)]
)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https(ca: trustme.CA) -> Iterator[EmulatorServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with serve_in_thread(Emulator(), ssl_context=context) as server:
        yield server


def _settings(url: str, tmp_path: Path, **flags: str):  # type: ignore[no-untyped-def]
    values = {"url": url, "project": "Demo", "user": USER, "outbox": str(tmp_path / "outbox")}
    values.update(flags)
    return resolve(values, {}, {"TMUPLOAD_PASSWORD": PASSWORD})


def test_an_unknown_ca_is_refused_with_the_fix(https: EmulatorServer, tmp_path: Path) -> None:
    outcome = upload(RUN, _settings(https.url, tmp_path, deadline="5"))
    assert not outcome.ok
    assert "--tm-ca-bundle" in str(outcome.error)
    assert https.emulator.requests == []  # no request got through the handshake


def test_ca_bundle_makes_a_private_ca_trusted(
    https: EmulatorServer, ca: trustme.CA, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    outcome = upload(RUN, _settings(https.url, tmp_path, ca_bundle=str(bundle)))
    assert outcome.ok, outcome.error
    assert outcome.delivery is not None and outcome.delivery.run is not None
    assert (outcome.delivery.run.api_url or "").startswith("https://127.0.0.1:")
    assert len(https.emulator.runs()) == 1


def test_client_certificate_for_mutual_tls(ca: trustme.CA, tmp_path: Path) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca.configure_trust(context)
    context.verify_mode = ssl.CERT_REQUIRED
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client_pem = tmp_path / "client.pem"
    ca.issue_cert("ci-bot@example.com").private_key_and_cert_chain_pem.write_to_path(
        str(client_pem)
    )
    with serve_in_thread(Emulator(), ssl_context=context) as server:
        without = upload(RUN, _settings(server.url, tmp_path, ca_bundle=str(bundle), deadline="5"))
        assert not without.ok
        with_cert = upload(
            RUN,
            _settings(server.url, tmp_path, ca_bundle=str(bundle), client_cert=str(client_pem)),
        )
        assert with_cert.ok, with_cert.error
        assert len(server.emulator.runs()) == 1
