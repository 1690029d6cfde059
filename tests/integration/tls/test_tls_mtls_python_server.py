"""Mutual TLS against a Python ``ssl`` server that requires a client certificate (TLS 1.3 only, TLS 1.2 max).

Such servers refuse a missing or untrusted certificate in the handshake itself, with an alert: TLS 1.3
``certificate_required`` (often seen only on the first read) and TLS 1.2 ``handshake_failure``.
"""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from tests.integration.tls.tls_servers import PyTLSServer, PyTLSServerFactory, fetch, fetch_error
from tests.support.pki import PKI, CertFiles

from linkdoctor.classify.tls import classify_alert, classify_tls_error
from linkdoctor.config import CheckConfig, ClientCert, Secret
from linkdoctor.tls.certs import load_client_cert
from linkdoctor.tls.context import TLSContextFactory, ssl_context_for
from linkdoctor.tls.probe import probe

NO_CERT_ALERT = {"1.3": "certificate_required", "1.2": "handshake_failure"}
VERSION_NAME = {"1.3": "TLSv1.3", "1.2": "TLSv1.2"}


@pytest.fixture(params=["1.3", "1.2"])
def tls(request: pytest.FixtureRequest) -> str:
    version: str = request.param
    return version


@pytest.fixture(scope="module")
def server_cert(pki: PKI) -> CertFiles:
    return pki.server("py-mtls-server")


@pytest.fixture
def server(py_tls_server: PyTLSServerFactory, server_cert: CertFiles, pki: PKI, tls: str) -> PyTLSServer:
    return py_tls_server(server_cert, client_ca=pki.root.cert, tls=tls)


def url(server: PyTLSServer) -> str:
    return f"https://127.0.0.1:{server.port}/"


def test_probe_without_a_certificate_reports_the_alert_of_the_tls_version(
    server: PyTLSServer, tls: str
) -> None:
    result = probe("127.0.0.1", server.port, timeout=5)

    assert (result.ok, result.alert, result.tls_version) == (False, NO_CERT_ALERT[tls], VERSION_NAME[tls])
    assert result.cert_requested
    assert not result.cert_sent
    assert result.http_status is None


def test_probe_records_the_server_chain_without_enforcing_verification(
    server: PyTLSServer, server_cert: CertFiles
) -> None:
    result = probe("127.0.0.1", server.port, timeout=5)  # system trust: our test root is unknown there

    assert result.peer_chain[0] == server_cert.certificate
    assert result.verify_code not in (None, 0)


async def test_request_without_a_certificate_is_classified_client_cert_required(
    server: PyTLSServer, pki: PKI
) -> None:
    error = await fetch_error(url(server), ssl_context_for(None, cafile=pki.root.cert))
    seen = await asyncio.to_thread(probe, "127.0.0.1", server.port, timeout=5)

    assert classify_tls_error(error, cert_requested=seen.cert_requested) == "tls.client-cert-required"


async def test_tls13_certificate_required_alert_needs_no_probe_to_be_classified(
    py_tls_server: PyTLSServerFactory, server_cert: CertFiles, pki: PKI
) -> None:
    server = py_tls_server(server_cert, client_ca=pki.root.cert, tls="1.3")

    error = await fetch_error(url(server), ssl_context_for(None, cafile=pki.root.cert))

    assert classify_tls_error(error) == "tls.client-cert-required"


async def test_tls12_handshake_failure_without_probe_is_only_a_handshake_failure(
    py_tls_server: PyTLSServerFactory, server_cert: CertFiles, pki: PKI
) -> None:
    server = py_tls_server(server_cert, client_ca=pki.root.cert, tls="1.2")

    error = await fetch_error(url(server), ssl_context_for(None, cafile=pki.root.cert))

    assert classify_tls_error(error) == "tls.handshake-failed"


def test_probe_with_a_valid_certificate_gets_the_page(server: PyTLSServer, pki: PKI, tls: str) -> None:
    files = pki.client("py-client")
    client = load_client_cert(ClientCert(cert=files.cert, key=files.key))

    result = probe("127.0.0.1", server.port, client=client, cafile=pki.root.cert, timeout=5)

    assert (result.ok, result.alert, result.error) == (True, None, None)
    assert (result.http_status, result.http_body_prefix) == (200, "ok\n")
    assert result.cert_sent
    assert result.tls_version == VERSION_NAME[tls]
    assert result.verify_code == 0


def test_probe_with_a_rogue_certificate_reports_unknown_ca(server: PyTLSServer, pki: PKI) -> None:
    rogue = pki.client_rogue()
    client = load_client_cert(ClientCert(cert=rogue.cert, key=rogue.key))

    result = probe("127.0.0.1", server.port, client=client, timeout=5)

    assert (result.ok, result.alert, result.cert_sent) == (False, "unknown_ca", True)
    assert result.alert is not None
    assert classify_alert(result.alert, cert_requested=True, cert_sent=True) == "tls.client-cert-rejected"


async def test_request_with_a_rogue_certificate_is_classified_client_cert_rejected(
    server: PyTLSServer, pki: PKI
) -> None:
    rogue = pki.client_rogue()
    context = ssl_context_for(
        load_client_cert(ClientCert(cert=rogue.cert, key=rogue.key)), cafile=pki.root.cert
    )

    error = await fetch_error(url(server), context)

    assert classify_tls_error(error) == "tls.client-cert-rejected"


CREDENTIALS = ["pem", "chain-via-intermediate", "encrypted-key", "der", "key-in-cert-file", "pkcs12"]


def credential(pki: PKI, kind: str) -> ClientCert:
    password = Secret("correct horse battery staple")
    if kind == "pem":
        files = pki.client(f"cred-{kind}")
        return ClientCert(cert=files.cert, key=files.key)
    if kind == "chain-via-intermediate":
        files = pki.client_via_intermediate(f"cred-{kind}")
        return ClientCert(cert=files.chain, key=files.key)
    if kind == "encrypted-key":
        files = pki.client_encrypted_key(f"cred-{kind}", password.reveal())
        return ClientCert(cert=files.cert, key=files.key, password=password)
    if kind == "der":
        files = pki.client(f"cred-{kind}")
        return ClientCert(cert=files.der, key=files.key)
    if kind == "key-in-cert-file":
        files = pki.client(f"cred-{kind}")
        return ClientCert(cert=files.combined)
    files = pki.client_pkcs12(f"cred-{kind}", password.reveal(), via_intermediate=True)
    return ClientCert(pkcs12=files.p12, password=password)


@pytest.mark.parametrize("kind", CREDENTIALS)
async def test_every_kind_of_credential_authenticates_through_the_context_factory(
    py_tls_server: PyTLSServerFactory, server_cert: CertFiles, pki: PKI, kind: str
) -> None:
    server = py_tls_server(server_cert, client_ca=pki.root.cert, tls="1.3")
    config = CheckConfig(client_certs=(credential(pki, kind),), cacert=pki.root.cert)

    with TLSContextFactory(config) as factory:
        status = await fetch(url(server), factory.context_for("127.0.0.1"))

    assert status == 200
    assert server.handshake_errors == []


async def test_a_host_without_a_configured_certificate_gets_none(
    py_tls_server: PyTLSServerFactory, server_cert: CertFiles, pki: PKI
) -> None:
    server = py_tls_server(server_cert, client_ca=pki.root.cert, tls="1.3")
    files = pki.client("cred-other-host")
    config = CheckConfig(
        client_certs=(ClientCert(cert=files.cert, key=files.key, hosts=("other.example",)),),
        cacert=pki.root.cert,
    )

    with TLSContextFactory(config) as factory:
        error = await fetch_error(url(server), factory.context_for("127.0.0.1"))

    assert isinstance(error, aiohttp.ClientError)
    assert classify_tls_error(error) == "tls.client-cert-required"
