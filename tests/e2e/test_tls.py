"""TLS on every target: verification is always on; a private CA is trusted through
--tm-ca-bundle (also in the courier that delivers a pytest session's run) or SSL_CERT_FILE;
a certificate that does not verify is refused before any request, with the fix named; a
client certificate for mutual TLS."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme
from fronts import front, pointed_at

from contract.servers import Server, upload_args
from tmupload.cli.app import main
from tmupload.delivery.outbox import Outbox

SUITE = "def test_ok():\n    pass\n"
REPORT = '<testsuite name="s"><testcase classname="t" name="test_ok"/></testsuite>'


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def bundle(ca: trustme.CA, tmp_path: Path) -> Path:
    """The private CA as a company hands it out: a PEM file."""
    path = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


def _https(ca: trustme.CA, host: str = "127.0.0.1", client_ca: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(host).configure_cert(context)
    if client_ca:  # mutual TLS: the server asks for a certificate from the same CA
        ca.configure_trust(context)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@pytest.fixture
def https(server: Server, ca: trustme.CA) -> Iterator[str]:
    """``server`` behind HTTPS, its certificate (for 127.0.0.1) signed by the private CA."""
    with front(server, ssl_context=_https(ca)) as url:
        yield url


def _import(server: Server, url: str, tmp_path: Path, *flags: str) -> int:
    """``tmupload import`` of a one-test report to ``server`` at ``url``."""
    report = tmp_path / "junit.xml"
    report.write_text(REPORT)
    where = pointed_at(server.cli_args(), server, url)
    return main(["import", str(report), *where, "--outbox", str(tmp_path / "outbox"), *flags])


def test_a_session_trusts_a_private_ca_given_as_the_bundle(
    pytester: pytest.Pytester, server: Server, https: str, bundle: Path, outbox: Path
) -> None:
    pytester.makepyfile(test_a=SUITE)
    args = upload_args(server, outbox, f"--tm-ca-bundle={bundle}")
    result = pytester.runpytest_subprocess(*pointed_at(args, server, https))
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines([f"*tmupload: uploaded 1 result to {server.title}: *"])
    assert server.landed() == {"test_a.py::test_ok": "passed"} and server.uploads() == 1
    assert Outbox(outbox).entries() == []


def test_the_command_trusts_the_ca_bundle_of_ssl_cert_file(
    server: Server, https: str, bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))  # how many companies set their CA
    assert _import(server, https, tmp_path) == 0
    assert server.uploads() == 1


@pytest.mark.parametrize("wrong", ["unknown CA", "another host's certificate"])
def test_a_certificate_that_does_not_verify_is_refused_with_the_fix(
    server: Server,
    ca: trustme.CA,
    bundle: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wrong: str,
) -> None:
    host, trusted = ("127.0.0.1", []) if wrong == "unknown CA" else ("other.example", [bundle])
    with front(server, ssl_context=_https(ca, host)) as url:
        flags = [f"--ca-bundle={path}" for path in trusted]
        assert _import(server, url, tmp_path, "--deadline=5", *flags) == 1
    out = capsys.readouterr().out
    assert f"TLS verification of https://{urlsplit(url).netloc} failed" in out
    assert "point --ca-bundle at your company's CA bundle" in out
    assert server.emulator.requests == []  # type: ignore[attr-defined]  # none got through
    assert len(Outbox(tmp_path / "outbox").entries()) == 1  # kept for a resend


def test_a_ca_bundle_that_is_not_pem_is_named(
    server: Server, https: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "ca.der"
    bad.write_bytes(b"\x30\x82 not a PEM file")
    assert _import(server, https, tmp_path, f"--ca-bundle={bad}") != 0
    captured = capsys.readouterr()
    assert f"--ca-bundle {bad}" in captured.out + captured.err
    assert "they must be PEM files" in captured.out + captured.err
    assert server.emulator.requests == []  # type: ignore[attr-defined]


def test_a_client_certificate_for_mutual_tls(
    server: Server, ca: trustme.CA, bundle: Path, tmp_path: Path, outbox: Path
) -> None:
    client_pem = tmp_path / "client.pem"
    ca.issue_cert("ci-bot@example.com").private_key_and_cert_chain_pem.write_to_path(
        str(client_pem)
    )
    with front(server, ssl_context=_https(ca, client_ca=True)) as url:
        assert _import(server, url, tmp_path, f"--ca-bundle={bundle}", "--deadline=5") == 1
        assert server.uploads() == 0 and len(Outbox(outbox).entries()) == 1
        # The run waits in the outbox; a resend given the certificate lands it (TLS files,
        # like credentials, always come from the command that resends, not from the entry).
        tls = [f"--ca-bundle={bundle}", f"--client-cert={client_pem}"]
        assert main(["resend", "--outbox", str(outbox), *tls]) == 0
        assert server.uploads() == 1 and Outbox(outbox).entries() == []
