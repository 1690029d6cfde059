"""Mutual TLS against real nginx (``ssl_verify_client on``): the wire says 400, the probe says why.

nginx completes the handshake without a client certificate (or with a rejected one) and answers
``HTTP/1.1 400`` with the page of its internal status 496 ("No required SSL certificate was sent") or
495 ("The SSL certificate error"); its CertificateRequest lists ``ssl_client_certificate``'s subjects.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from harness.nginx import NginxServer
from tests.support.pki import PKI, CertFiles

from linkdoctor.config import ClientCert
from linkdoctor.tls.certs import LoadedClientCert, load_client_cert, refine_client_cert_rejection
from linkdoctor.tls.probe import probe

pytestmark = pytest.mark.nginx


def port(server: NginxServer) -> int:
    assert server.tls_port is not None
    return server.tls_port


def loaded(files: CertFiles) -> LoadedClientCert:
    return load_client_cert(ClientCert(cert=files.cert, key=files.key))


@pytest.mark.parametrize(("max_version", "negotiated"), [(None, "TLSv1.3"), ("1.2", "TLSv1.2")])
def test_probe_reads_the_acceptable_ca_names(
    mtls_nginx: NginxServer, pki: PKI, max_version: str | None, negotiated: str
) -> None:
    result = probe("127.0.0.1", port(mtls_nginx), sni="localhost", max_version=max_version, timeout=5)

    assert result.tls_version == negotiated
    assert result.cert_requested
    assert result.client_ca_names == (pki.root.subject,)


@pytest.mark.parametrize("max_version", [None, "1.2"])
def test_without_a_certificate_nginx_answers_400_with_its_496_page(
    mtls_nginx: NginxServer, max_version: str | None
) -> None:
    result = probe("127.0.0.1", port(mtls_nginx), sni="localhost", max_version=max_version, timeout=5)

    assert (result.ok, result.alert, result.http_status) == (True, None, 400)
    assert "No required SSL certificate was sent" in result.http_body_prefix


@pytest.mark.parametrize("max_version", [None, "1.2"])
def test_with_a_valid_certificate_nginx_answers_200(
    mtls_nginx: NginxServer, pki: PKI, max_version: str | None
) -> None:
    client = loaded(pki.client("nginx-client"))

    result = probe("127.0.0.1", port(mtls_nginx), client=client, max_version=max_version, timeout=5)

    assert (result.ok, result.cert_sent, result.http_status, result.http_body_prefix) == (
        True,
        True,
        200,
        "ok\n",
    )


def test_a_rogue_certificate_gets_the_495_page_and_is_refined_to_untrusted_ca(
    mtls_nginx: NginxServer, pki: PKI
) -> None:
    client = loaded(pki.client_rogue("nginx-rogue"))

    result = probe("127.0.0.1", port(mtls_nginx), client=client, timeout=5)

    assert result.http_status == 400
    assert "The SSL certificate error" in result.http_body_prefix
    refined = refine_client_cert_rejection(client, result.client_ca_names, datetime.now(UTC))
    assert refined == "tls.client-cert-untrusted-ca"


def test_an_expired_certificate_gets_the_495_page_and_is_refined_to_expired(
    mtls_nginx: NginxServer, pki: PKI
) -> None:
    client = loaded(pki.client_expired("nginx-expired"))

    result = probe("127.0.0.1", port(mtls_nginx), client=client, timeout=5)

    assert result.http_status == 400
    assert "The SSL certificate error" in result.http_body_prefix
    assert (
        refine_client_cert_rejection(client, result.client_ca_names, datetime.now(UTC))
        == "tls.client-cert-expired"
    )
