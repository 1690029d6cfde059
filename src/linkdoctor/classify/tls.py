"""TLS and handshake failures → stable diagnosis codes (``tls.server-cert-*``, ``tls.client-cert-*``).

Classification reads structured fields only — ``ssl.SSLCertVerificationError.verify_code`` (OpenSSL's
``X509_V_ERR_*`` numbers), ``ssl.SSLError.reason`` mnemonics such as ``TLSV13_ALERT_CERTIFICATE_REQUIRED``
and TLS alert names — never the wording of messages, which changes between OpenSSL releases::

    try:
        tls_socket.do_handshake()
    except ssl.SSLError as exc:
        code = classify_tls_error(exc, cert_requested=probe.cert_requested)   # 'tls.client-cert-required'

An HTTP library wraps the ``ssl`` exception (in ``certificate_error``, ``os_error`` or ``__cause__``);
:func:`tls_exceptions` unwraps all of them. Pure: this module imports no HTTP library and no certificate
loader, only the exception and certificate types it reads.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import Final

from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID
from OpenSSL import SSL

CLIENT_CERT_REQUIRED: Final = "tls.client-cert-required"
CLIENT_CERT_REJECTED: Final = "tls.client-cert-rejected"
CLIENT_CERT_EXPIRED: Final = "tls.client-cert-expired"
CLIENT_CERT_NOT_YET_VALID: Final = "tls.client-cert-not-yet-valid"
CLIENT_CERT_UNTRUSTED_CA: Final = "tls.client-cert-untrusted-ca"
CLIENT_CERT_WRONG_USAGE: Final = "tls.client-cert-wrong-usage"
SERVER_CERT_EXPIRED: Final = "tls.server-cert-expired"
SERVER_CERT_NOT_YET_VALID: Final = "tls.server-cert-not-yet-valid"
SERVER_CERT_SELF_SIGNED: Final = "tls.server-cert-self-signed"
SERVER_CERT_INCOMPLETE_CHAIN: Final = "tls.server-cert-incomplete-chain"
SERVER_CERT_HOSTNAME_MISMATCH: Final = "tls.server-cert-hostname-mismatch"
SERVER_CERT_UNTRUSTED: Final = "tls.server-cert-untrusted"
HANDSHAKE_FAILED: Final = "tls.handshake-failed"

# OpenSSL X509_V_ERR_* numbers (include/openssl/x509_vfy.h), stable across releases.
X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT: Final = 2
X509_V_ERR_CERT_NOT_YET_VALID: Final = 9
X509_V_ERR_CERT_HAS_EXPIRED: Final = 10
X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: Final = 18
X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: Final = 19
X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY: Final = 20
X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE: Final = 21
X509_V_ERR_HOSTNAME_MISMATCH: Final = 62
X509_V_ERR_IP_ADDRESS_MISMATCH: Final = 64

_VERIFY_CODES: Final[Mapping[int, str]] = MappingProxyType(
    {
        X509_V_ERR_CERT_HAS_EXPIRED: SERVER_CERT_EXPIRED,
        X509_V_ERR_CERT_NOT_YET_VALID: SERVER_CERT_NOT_YET_VALID,
        X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: SERVER_CERT_SELF_SIGNED,
        # 19: the chain the server sent ends in a self-signed root that is not trusted here: a private
        # or unknown CA, fixed on the client's side first (--cacert), not a broken certificate.
        X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN: SERVER_CERT_UNTRUSTED,
        X509_V_ERR_HOSTNAME_MISMATCH: SERVER_CERT_HOSTNAME_MISMATCH,
        X509_V_ERR_IP_ADDRESS_MISMATCH: SERVER_CERT_HOSTNAME_MISMATCH,
    }
)
# "Issuer not found": an intermediate missing from what the server sent, or a root we do not trust.
# 21 ("unable to verify the first certificate") is the leaf alone with an unknown issuer.
_MISSING_ISSUER: Final = frozenset(
    {
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
        X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
        X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE,
    }
)

# TLS alert descriptions (RFC 8446 §6, IANA "TLS Alerts"), by number, as the probe reports them.
ALERT_NAMES: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "close_notify",
        10: "unexpected_message",
        20: "bad_record_mac",
        22: "record_overflow",
        40: "handshake_failure",
        42: "bad_certificate",
        43: "unsupported_certificate",
        44: "certificate_revoked",
        45: "certificate_expired",
        46: "certificate_unknown",
        47: "illegal_parameter",
        48: "unknown_ca",
        49: "access_denied",
        50: "decode_error",
        51: "decrypt_error",
        70: "protocol_version",
        71: "insufficient_security",
        80: "internal_error",
        86: "inappropriate_fallback",
        90: "user_canceled",
        109: "missing_extension",
        110: "unsupported_extension",
        112: "unrecognized_name",
        113: "bad_certificate_status_response",
        115: "unknown_psk_identity",
        116: "certificate_required",
        120: "no_application_protocol",
    }
)

# Alerts a server sends about the certificate *we* presented (received alerts concern our side).
_CLIENT_CERT_REJECTION_ALERTS: Final = frozenset(
    {
        "bad_certificate",
        "unsupported_certificate",
        "certificate_revoked",
        "certificate_expired",
        "certificate_unknown",
        "unknown_ca",
        "access_denied",
    }
)
_ALERT_PREFIXES: Final = ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_", "TLS_ALERT_")
# Where HTTP libraries keep the exception they wrap (a certificate error, the socket's OSError).
_WRAPPING: Final = ("certificate_error", "os_error")


def classify_tls_error(
    exc: BaseException,
    *,
    cert_requested: bool | None = None,
    cert_sent: bool | None = None,
    peer_chain: Sequence[x509.Certificate] | None = None,
) -> str | None:
    """The diagnosis code for a TLS failure anywhere in ``exc``'s wrapping, or None if it is not TLS.

    ``cert_requested``: whether the server asked for a client certificate (from a probe), which turns
    a bare ``handshake_failure`` alert into ``tls.client-cert-required`` (or, with ``cert_sent``,
    ``tls.client-cert-rejected``). ``peer_chain``: the certificates the server presented (from a
    probe), which tells a missing intermediate from an untrusted root (see :func:`classify_verify_code`).

    >>> classify_tls_error(ConnectionRefusedError()) is None
    True
    """
    for candidate in tls_exceptions(exc):
        if _wraps_another(candidate):
            continue  # a library's SSL error may subclass ssl's but only wrap the real one (visited next)
        if isinstance(candidate, ssl.SSLCertVerificationError):
            return classify_verify_code(candidate.verify_code, peer_chain)
        if isinstance(candidate, ssl.SSLError):
            alert = alert_from_reason(getattr(candidate, "reason", None))
            if alert is not None:
                return classify_alert(alert, cert_requested=cert_requested, cert_sent=cert_sent)
            return HANDSHAKE_FAILED
        if isinstance(candidate, SSL.Error):
            alert = next((a for a in map(alert_from_reason, _openssl_reasons(candidate)) if a), None)
            if alert is not None:
                return classify_alert(alert, cert_requested=cert_requested, cert_sent=cert_sent)
            return HANDSHAKE_FAILED
    return None


def classify_verify_code(verify_code: int, peer_chain: Sequence[x509.Certificate] | None = None) -> str:
    """The ``tls.server-cert-*`` code for an OpenSSL certificate verification error number.

    >>> classify_verify_code(10)
    'tls.server-cert-expired'

    OpenSSL reports 20 or 21 ("unable to get local issuer certificate", "unable to verify the first
    certificate") both for a server that sent its leaf without the intermediate and for a leaf issued
    by a root that is not trusted here. The number alone cannot tell them apart, so it means
    ``tls.server-cert-untrusted`` unless ``peer_chain`` (what the server sent, e.g.
    ``ProbeResult.peer_chain``) shows a missing intermediate (see :func:`missing_intermediate`): then it
    is ``tls.server-cert-incomplete-chain``. A chain that ends in a self-signed root nobody here trusts
    (19) is untrusted too.
    """
    if verify_code in _MISSING_ISSUER:
        if peer_chain and missing_intermediate(peer_chain):
            return SERVER_CERT_INCOMPLETE_CHAIN
        return SERVER_CERT_UNTRUSTED
    return _VERIFY_CODES.get(verify_code, SERVER_CERT_UNTRUSTED)


def missing_intermediate(peer_chain: Sequence[x509.Certificate]) -> bool:
    """Whether the chain a server sent (whose verification failed for an unknown issuer) lacks an
    intermediate, rather than ending in a root that is not trusted here.

    A chain that carries a CA certificate reached the top of what the server has: its issuer is a root
    we do not trust. A leaf sent alone is missing its intermediate when its issuer is one: the leaf
    names where its issuer's certificate is published (Authority Information Access ``caIssuers``),
    which public CAs' intermediates always do and private roots issuing directly (mkcert, a
    hand-made CA) do not. Without that mark the leaf is read as issued by an untrusted root, so the
    client-side fix (``--cacert``) comes first and the operator is sent to rebuild a chain only when
    one is provably missing.
    """
    if not peer_chain or any(is_ca(cert) for cert in peer_chain):
        return False
    return publishes_issuer(peer_chain[0])


def publishes_issuer(cert: x509.Certificate) -> bool:
    """Whether ``cert`` carries an Authority Information Access ``caIssuers`` location."""
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return False
    return any(item.access_method == AuthorityInformationAccessOID.CA_ISSUERS for item in access)


def classify_alert(alert: str, *, cert_requested: bool | None = None, cert_sent: bool | None = None) -> str:
    """The code for a fatal TLS alert received from the server, by its RFC name.

    >>> classify_alert("certificate_required")
    'tls.client-cert-required'
    >>> classify_alert("handshake_failure")
    'tls.handshake-failed'
    """
    if alert == "certificate_required":
        return CLIENT_CERT_REQUIRED
    if alert in _CLIENT_CERT_REJECTION_ALERTS:
        return CLIENT_CERT_REJECTED
    if alert == "handshake_failure" and cert_requested:
        return CLIENT_CERT_REJECTED if cert_sent else CLIENT_CERT_REQUIRED
    return HANDSHAKE_FAILED


def alert_from_reason(reason: str | None) -> str | None:
    """The alert name in an OpenSSL reason mnemonic or text, or None when the reason is not an alert.

    >>> alert_from_reason("SSLV3_ALERT_HANDSHAKE_FAILURE")
    'handshake_failure'
    >>> alert_from_reason("tlsv13 alert certificate required")
    'certificate_required'
    """
    if not reason:
        return None
    mnemonic = reason.strip().upper().replace(" ", "_")
    for prefix in _ALERT_PREFIXES:
        if mnemonic.startswith(prefix):
            return mnemonic[len(prefix) :].lower()
    return None


def tls_exceptions(exc: BaseException, *, limit: int = 16) -> Iterator[BaseException]:
    """``exc`` and every exception wrapped in it (a library's wrapping attributes, ``__cause__``,
    ``__context__``), outermost first, each once, at most ``limit``."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending and len(seen) < limit:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attribute in (*_WRAPPING, "__cause__", "__context__"):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                pending.append(inner)


def _wraps_another(exc: BaseException) -> bool:
    """Whether ``exc`` is a library's wrapper that carries the real error in an attribute."""
    return any(isinstance(getattr(exc, attribute, None), BaseException) for attribute in _WRAPPING)


def is_ca(cert: x509.Certificate) -> bool:
    """Whether ``cert`` has ``basicConstraints CA:TRUE``."""
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _openssl_reasons(error: SSL.Error) -> Iterator[str]:
    # pyOpenSSL errors carry [(library, function, reason), …] from OpenSSL's error queue.
    for arg in error.args:
        if isinstance(arg, list):
            for entry in arg:
                if isinstance(entry, tuple) and entry and isinstance(entry[-1], str):
                    yield entry[-1]
