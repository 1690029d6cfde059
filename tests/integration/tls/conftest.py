"""Fixtures for the TLS-layer integration tests: real TLS servers on 127.0.0.1.

* ``pki`` — a :class:`~tests.support.pki.PKI` shared by the session.
* ``py_tls_server(cert, *, client_ca=None, tls=None, leaf_only=False)`` — a Python ``ssl`` server
  thread answering ``200 ok``; with ``client_ca`` it requires a client certificate from that CA.
* ``openssl_server(cert, *, client_ca, tls)`` — ``openssl s_server -Verify 1 … -www``.
* ``mtls_nginx`` — nginx with ``ssl_verify_client on`` and ``ssl_client_certificate root.pem`` (session).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from harness.nginx import NginxFactory, NginxServer, quote
from harness.ports import free_port
from tests.integration.tls.tls_servers import (
    OpenSSLServer,
    OpenSSLServerFactory,
    PyTLSServer,
    PyTLSServerFactory,
    server_context,
    start_openssl_server,
)
from tests.support.pki import PKI, CertFiles


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return PKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def py_tls_server() -> Iterator[PyTLSServerFactory]:
    started: list[PyTLSServer] = []

    def start(
        cert: CertFiles, *, client_ca: Path | None = None, tls: str | None = None, leaf_only: bool = False
    ) -> PyTLSServer:
        served = replace(cert, chain=cert.cert) if leaf_only else cert
        server = PyTLSServer(server_context(served, client_ca=client_ca, tls=tls))
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture
def openssl_server() -> Iterator[OpenSSLServerFactory]:
    started: list[OpenSSLServer] = []

    def start(cert: CertFiles, *, client_ca: Path, tls: str) -> OpenSSLServer:
        server = start_openssl_server(cert, client_ca=client_ca, tls=tls)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def mtls_nginx(nginx_factory: NginxFactory, pki: PKI) -> NginxServer:
    """nginx on TLS 1.2 and 1.3 requiring a client certificate from the test root CA."""
    server_cert = pki.server("nginx-server")
    block = f"""
    server {{
        listen 127.0.0.1:{free_port()} ssl;
        server_name localhost;
        ssl_certificate {quote(server_cert.chain)};
        ssl_certificate_key {quote(server_cert.key)};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_client_certificate {quote(pki.root.cert)};
        ssl_verify_client on;
        location / {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
    }}
    """
    return nginx_factory(block, "mtls")
