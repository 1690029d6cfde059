"""Mutual TLS against ``openssl s_server -Verify 1``: a non-nginx server that refuses in the handshake.

s_server lists the subjects of its ``-CAfile`` as acceptable client CAs, requires a certificate, and
answers ``-www`` requests with ``HTTP/1.0 200 ok``.
"""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.tls.tls_servers import OpenSSLServer, OpenSSLServerFactory, fetch_error
from tests.support.pki import PKI, CertFiles

from linkdoctor.classify.tls import classify_alert, classify_tls_error
from linkdoctor.config import ClientCert
from linkdoctor.tls.certs import LoadedClientCert, load_client_cert
from linkdoctor.tls.context import ssl_context_for
from linkdoctor.tls.probe import probe

NO_CERT_ALERT = {"1.3": "certificate_required", "1.2": "handshake_failure"}


@pytest.fixture(params=["1.3", "1.2"])
def tls(request: pytest.FixtureRequest) -> str:
    version: str = request.param
    return version


@pytest.fixture(scope="module")
def server_cert(pki: PKI) -> CertFiles:
    return pki.server("s-server")


@pytest.fixture
def server(openssl_server: OpenSSLServerFactory, server_cert: CertFiles, pki: PKI, tls: str) -> OpenSSLServer:
    return openssl_server(server_cert, client_ca=pki.root.cert, tls=tls)


def loaded(files: CertFiles) -> LoadedClientCert:
    return load_client_cert(ClientCert(cert=files.cert, key=files.key))


def test_probe_without_a_certificate_reports_the_alert(server: OpenSSLServer, tls: str) -> None:
    result = probe("127.0.0.1", server.port, timeout=5)

    assert (result.ok, result.alert, result.cert_requested) == (False, NO_CERT_ALERT[tls], True)


def test_probe_reads_the_acceptable_client_ca_names(server: OpenSSLServer, pki: PKI) -> None:
    result = probe("127.0.0.1", server.port, timeout=5)

    assert result.client_ca_names == (pki.root.subject,)


async def test_request_without_a_certificate_is_classified_client_cert_required(
    server: OpenSSLServer, pki: PKI
) -> None:
    error = await fetch_error(
        f"https://127.0.0.1:{server.port}/", ssl_context_for(None, cafile=pki.root.cert)
    )
    seen = await asyncio.to_thread(probe, "127.0.0.1", server.port, timeout=5)

    assert classify_tls_error(error, cert_requested=seen.cert_requested) == "tls.client-cert-required"


def test_probe_with_a_valid_certificate_gets_the_status_page(server: OpenSSLServer, pki: PKI) -> None:
    result = probe("127.0.0.1", server.port, client=loaded(pki.client("s-client")), timeout=5)

    assert (result.ok, result.alert, result.http_status, result.cert_sent) == (True, None, 200, True)


def test_probe_with_a_rogue_certificate_is_rejected(server: OpenSSLServer, pki: PKI) -> None:
    result = probe("127.0.0.1", server.port, client=loaded(pki.client_rogue("s-rogue")), timeout=5)

    assert not result.ok
    assert result.alert is not None
    assert classify_alert(result.alert, cert_requested=True, cert_sent=True) == "tls.client-cert-rejected"


async def test_request_with_a_rogue_certificate_is_classified_client_cert_rejected(
    server: OpenSSLServer, pki: PKI
) -> None:
    context = ssl_context_for(loaded(pki.client_rogue("s-rogue")), cafile=pki.root.cert)

    error = await fetch_error(f"https://127.0.0.1:{server.port}/", context)

    assert classify_tls_error(error, cert_requested=True, cert_sent=True) == "tls.client-cert-rejected"
