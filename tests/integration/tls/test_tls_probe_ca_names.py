"""The probe's TLS 1.2 retry for acceptable CA names.

A TLS 1.3 CertificateRequest may omit the ``certificate_authorities`` extension, while a TLS 1.2 one always
carries the list. When a TLS 1.3 handshake asks for a certificate but names no CA, the probe shakes hands
again with TLS 1.2 at most and keeps the names it finds there. The server below is a real pyOpenSSL server
on 127.0.0.1 that names its client CA under TLS 1.2 only.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest
from OpenSSL import SSL
from tests.integration.tls.tls_servers import ThreadedListener
from tests.support.pki import CA, PKI, CertFiles

from linkdoctor.tls.probe import probe


class NamesOnlyUnderTLS12(ThreadedListener):
    """Requires a client certificate. Under TLS 1.3 its CertificateRequest names no CA; under TLS 1.2 the
    servername callback switches to a context whose client CA list names ``client_ca``."""

    def __init__(self, cert: CertFiles, client_ca: CA) -> None:
        self._silent = self._context(cert, client_ca, named=False)
        self._named = self._context(cert, client_ca, named=True)
        self._silent.set_tlsext_servername_callback(self._choose_context)
        self.versions: list[str] = []
        super().__init__("ca-names")

    @staticmethod
    def _context(cert: CertFiles, client_ca: CA, *, named: bool) -> SSL.Context:
        context = SSL.Context(SSL.TLS_SERVER_METHOD)
        context.use_certificate_chain_file(str(cert.chain))
        context.use_privatekey_file(str(cert.key))
        context.load_verify_locations(str(client_ca.cert))
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, lambda *_: True)
        if named:
            context.load_client_ca(str(client_ca.cert).encode())
        return context

    def _choose_context(self, connection: SSL.Connection) -> None:
        version = connection.get_protocol_version_name()
        self.versions.append(version)
        if version == "TLSv1.2":
            connection.set_context(self._named)

    def _accepted(self, raw: socket.socket) -> None:
        # pyOpenSSL wants a blocking socket (a timeout makes it non-blocking); the probe closes its side
        # within its own timeout, which ends the handshake here too.
        raw.setblocking(True)
        connection = SSL.Connection(self._silent, raw)
        connection.set_accept_state()
        with contextlib.suppress(SSL.Error, OSError):
            connection.do_handshake()  # fails: the probe sends no certificate
        raw.close()


@pytest.fixture
def server(pki: PKI) -> Iterator[NamesOnlyUnderTLS12]:
    started = NamesOnlyUnderTLS12(pki.server("ca-names-server"), pki.root)
    yield started
    started.close()


def test_a_tls13_request_without_names_is_asked_again_with_tls12(
    server: NamesOnlyUnderTLS12, pki: PKI
) -> None:
    result = probe("127.0.0.1", server.port, sni="localhost", timeout=5)

    assert (result.tls_version, result.cert_requested, result.alert) == (
        "TLSv1.3",
        True,
        "certificate_required",
    )
    assert result.client_ca_names == (pki.root.subject,)  # from the second handshake
    assert server.versions == ["TLSv1.3", "TLSv1.2"]


def test_a_pinned_version_is_not_retried(server: NamesOnlyUnderTLS12) -> None:
    result = probe("127.0.0.1", server.port, sni="localhost", max_version="1.3", timeout=5)

    assert (result.tls_version, result.cert_requested, result.client_ca_names) == ("TLSv1.3", True, ())
    assert server.versions == ["TLSv1.3"]


def test_tls12_carries_the_names_in_the_first_handshake(server: NamesOnlyUnderTLS12, pki: PKI) -> None:
    result = probe("127.0.0.1", server.port, sni="localhost", max_version="1.2", timeout=5)

    assert (result.tls_version, result.alert) == ("TLSv1.2", "handshake_failure")
    assert result.client_ca_names == (pki.root.subject,)
    assert server.versions == ["TLSv1.2"]
