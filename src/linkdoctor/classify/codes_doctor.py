"""Diagnosis codes only ``linkdoctor diagnose`` can name, because they need two connections or a local
file search. They are part of the one catalogue (:data:`linkdoctor.classify.codes.CODES`), so
``linkdoctor explain`` documents them like every other code::

    >>> DOCTOR_CODES[CLIENT_AUTH_NOT_ENFORCED].actor
    'operator'
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from linkdoctor.classify.codes_model import CLIENT, OPERATOR, DiagnosisInfo

CLIENT_AUTH_NOT_ENFORCED: Final = "tls.client-auth-not-enforced"
CLIENT_CERT_CHAIN_INCOMPLETE: Final = "tls.client-cert-chain-incomplete"
CLIENT_CERT_CHAIN_TOO_DEEP: Final = "tls.client-cert-chain-too-deep"
CLIENT_CERT_NEVER_REQUESTED: Final = "tls.client-cert-never-requested"

ENTRIES: Final[tuple[DiagnosisInfo, ...]] = (
    DiagnosisInfo(
        code=CLIENT_AUTH_NOT_ENFORCED,
        title="Client certificate requested but not enforced",
        summary="The server asks for a client certificate but serves the resource without one",
        explanation=(
            "The server sends a CertificateRequest (nginx: ssl_verify_client optional or optional_no_ca), "
            "yet the resource answered normally to a client that sent no certificate. If the resource is "
            "meant to be protected by mutual TLS, it is not: anyone can read it."
        ),
        fix=(
            "Operator: require the certificate for the server (ssl_verify_client on;) or for the "
            "location: if ($ssl_client_verify != SUCCESS) { return 496; }",
            "If the resource is meant to be public, nothing needs fixing.",
        ),
        actor=OPERATOR,
        related_status=(200,),
    ),
    DiagnosisInfo(
        code=CLIENT_CERT_CHAIN_INCOMPLETE,
        title="Client certificate sent without its intermediate",
        summary="The client certificate is issued by an intermediate CA that the client does not send",
        explanation=(
            "The server accepts client certificates from a root CA, but this certificate was issued by an "
            "intermediate CA under that root. The server can only build the chain when the client sends "
            "the intermediate after its own certificate; without it, verification fails with 'unable to "
            "get local issuer certificate' (nginx: 495)."
        ),
        fix=(
            "Append the intermediate certificate to the certificate file: cat client.pem intermediate.pem "
            "> client-chain.pem, and pass --cert client-chain.pem.",
            "Operator (alternative): add the intermediate to ssl_trusted_certificate so nginx can build "
            "the chain itself.",
        ),
        actor=CLIENT,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code=CLIENT_CERT_CHAIN_TOO_DEEP,
        title="Client certificate chain deeper than the server allows",
        summary="The server rejects a client chain that is longer than its verification depth",
        explanation=(
            "The client certificate chains to a CA the server accepts through one or more intermediates, "
            "and nothing is wrong with it locally, yet the server rejects it. nginx verifies client chains "
            "only up to ssl_verify_depth (default 1); a longer chain fails with 'certificate chain too long'."
        ),
        fix=(
            "Operator: raise ssl_verify_depth to cover the client chain (leaf, intermediates, root) and "
            "reload nginx.",
        ),
        actor=OPERATOR,
        related_status=(400, 495),
    ),
    DiagnosisInfo(
        code=CLIENT_CERT_NEVER_REQUESTED,
        title="Client certificate demanded but never requested",
        summary="The server refuses for want of a client certificate, but never asks for one",
        explanation=(
            "The answer is nginx's 496 (or 495) page, which blames the client certificate, yet the TLS "
            "handshake carried no CertificateRequest: a client cannot send a certificate the server does "
            "not ask for, so every client is refused, with or without one. nginx requests a certificate "
            "only in a server block with ssl_verify_client on, optional or optional_no_ca; a location "
            "that returns 496 or tests $ssl_client_verify in a server without it always fails (nginx "
            "lint: LDN008). The same answer comes from a server behind a proxy that ends TLS without "
            "asking for the certificate."
        ),
        fix=(
            "Operator: in the server block that handles the TLS handshake for this host and port, set "
            "ssl_client_certificate to the CAs you accept and ssl_verify_client optional; (or on), then "
            "reload nginx.",
            "Behind a proxy that ends TLS: ask for the client certificate there and pass its verdict on, "
            "or pass the TLS connection through to nginx.",
        ),
        actor=OPERATOR,
        related_status=(400, 495, 496),
    ),
)

DOCTOR_CODES: Final[Mapping[str, DiagnosisInfo]] = MappingProxyType({e.code: e for e in ENTRIES})
