"""Mapping TLS failures to diagnosis codes from structured fields (verify codes, alert mnemonics), and
refining a server's rejection of our client certificate from what can be checked locally."""

from __future__ import annotations

import ssl
from datetime import timedelta

import aiohttp
import pytest
from OpenSSL import SSL
from tests.support.pki import PKI, CertFiles

from linkdoctor.classify import codes
from linkdoctor.classify import tls as classify
from linkdoctor.classify.tls import (
    alert_from_reason,
    classify_alert,
    classify_tls_error,
    classify_verify_code,
    tls_exceptions,
)
from linkdoctor.config import ClientCert
from linkdoctor.tls.certs import LoadedClientCert, load_client_cert, refine_client_cert_rejection


def ssl_error(reason: str) -> ssl.SSLError:
    error = ssl.SSLError(1, f"[SSL: {reason}] …")
    error.reason = reason
    return error


def verify_error(code: int) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] …")
    error.verify_code = code
    return error


def loaded(files: CertFiles) -> LoadedClientCert:
    return load_client_cert(ClientCert(cert=files.chain, key=files.key))


def test_every_code_this_module_returns_is_in_the_catalogue() -> None:
    returned = {value for name, value in vars(classify).items() if name.isupper() and isinstance(value, str)}

    assert returned
    assert returned <= set(codes.CODES)


@pytest.mark.parametrize(
    ("verify_code", "expected"),
    [
        (9, "tls.server-cert-not-yet-valid"),
        (10, "tls.server-cert-expired"),
        (18, "tls.server-cert-self-signed"),
        (19, "tls.server-cert-untrusted"),
        (21, "tls.server-cert-untrusted"),
        (20, "tls.server-cert-untrusted"),
        (62, "tls.server-cert-hostname-mismatch"),
        (64, "tls.server-cert-hostname-mismatch"),
        (23, "tls.server-cert-untrusted"),
    ],
)
def test_verify_codes_map_to_server_cert_codes(verify_code: int, expected: str) -> None:
    assert classify_tls_error(verify_error(verify_code)) == expected


def test_a_missing_issuer_with_a_leaf_only_chain_is_an_incomplete_chain(pki: PKI) -> None:
    leaf = pki.server_via_intermediate("cls-leaf").certificate

    assert classify_verify_code(20, [leaf]) == "tls.server-cert-incomplete-chain"
    assert classify_verify_code(20, [leaf, pki.intermediate.certificate]) == "tls.server-cert-untrusted"
    assert classify_verify_code(21, [leaf]) == "tls.server-cert-incomplete-chain"


def test_a_leaf_alone_from_a_private_root_is_untrusted_not_an_incomplete_chain(pki: PKI) -> None:
    leaf = pki.server("cls-private-root").certificate  # issued by the root itself: no intermediate to send

    assert classify_verify_code(21, [leaf]) == "tls.server-cert-untrusted"
    assert classify_verify_code(20, [leaf]) == "tls.server-cert-untrusted"


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "tls.client-cert-required"),
        ("SSLV3_ALERT_BAD_CERTIFICATE", "tls.client-cert-rejected"),
        ("TLSV1_ALERT_UNKNOWN_CA", "tls.client-cert-rejected"),
        ("SSLV3_ALERT_CERTIFICATE_EXPIRED", "tls.client-cert-rejected"),
        ("SSLV3_ALERT_UNSUPPORTED_CERTIFICATE", "tls.client-cert-rejected"),
        ("SSLV3_ALERT_CERTIFICATE_UNKNOWN", "tls.client-cert-rejected"),
        ("SSLV3_ALERT_HANDSHAKE_FAILURE", "tls.handshake-failed"),
        ("TLSV1_ALERT_PROTOCOL_VERSION", "tls.handshake-failed"),
        ("WRONG_VERSION_NUMBER", "tls.handshake-failed"),
    ],
)
def test_ssl_reasons_map_to_codes(reason: str, expected: str) -> None:
    assert classify_tls_error(ssl_error(reason)) == expected


def test_handshake_failure_means_certificate_required_when_the_server_asked_for_one() -> None:
    error = ssl_error("SSLV3_ALERT_HANDSHAKE_FAILURE")

    assert classify_tls_error(error, cert_requested=True) == "tls.client-cert-required"
    assert classify_tls_error(error, cert_requested=True, cert_sent=True) == "tls.client-cert-rejected"
    assert classify_tls_error(error, cert_requested=False) == "tls.handshake-failed"


def test_the_message_text_is_not_what_is_classified() -> None:
    error = ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] tlsv13 alert certificate required")

    assert classify_tls_error(error) == "tls.handshake-failed"  # no reason field: only "some TLS error"


def test_an_ssl_error_wrapped_by_aiohttp_is_found_through_the_cause() -> None:
    inner = ssl_error("TLSV13_ALERT_CERTIFICATE_REQUIRED")
    outer = aiohttp.ClientOSError(1, str(inner))
    outer.__cause__ = inner

    assert classify_tls_error(outer) == "tls.client-cert-required"


def test_a_pyopenssl_error_is_classified_by_its_reason() -> None:
    error = SSL.Error([("SSL routines", "", "tlsv13 alert certificate required")])

    assert classify_tls_error(error) == "tls.client-cert-required"


def test_errors_that_are_not_tls_are_not_classified() -> None:
    assert classify_tls_error(ConnectionRefusedError(111, "Connection refused")) is None
    assert classify_tls_error(aiohttp.ServerDisconnectedError()) is None


def test_unwrapping_terminates_on_cyclic_contexts() -> None:
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first

    assert list(tls_exceptions(first)) == [first, second]


@pytest.mark.parametrize(
    ("reason", "alert"),
    [
        ("SSLV3_ALERT_HANDSHAKE_FAILURE", "handshake_failure"),
        ("tlsv13 alert certificate required", "certificate_required"),
        ("tls alert handshake failure", "handshake_failure"),
        ("CERTIFICATE_VERIFY_FAILED", None),
        (None, None),
    ],
)
def test_alert_names_come_from_reason_mnemonics_and_texts(reason: str | None, alert: str | None) -> None:
    assert alert_from_reason(reason) == alert


def test_an_unknown_alert_is_a_handshake_failure() -> None:
    assert classify_alert("no_application_protocol") == "tls.handshake-failed"


# --- refining a rejection ----------------------------------------------------------------------------


def test_an_expired_certificate_explains_the_rejection(pki: PKI) -> None:
    assert (
        refine_client_cert_rejection(loaded(pki.client_expired("cls-exp")), None, pki.now)
        == "tls.client-cert-expired"
    )


def test_a_not_yet_valid_certificate_explains_the_rejection(pki: PKI) -> None:
    cert = loaded(pki.client_not_yet_valid("cls-nyv"))

    assert refine_client_cert_rejection(cert, None, pki.now) == "tls.client-cert-not-yet-valid"


def test_a_server_auth_only_certificate_explains_the_rejection(pki: PKI) -> None:
    cert = loaded(pki.client_server_auth_only("cls-eku"))

    assert refine_client_cert_rejection(cert, None, pki.now) == "tls.client-cert-wrong-usage"


def test_a_key_usage_without_digital_signature_explains_the_rejection(pki: PKI) -> None:
    cert = loaded(pki.client_wrong_key_usage("cls-ku"))

    assert refine_client_cert_rejection(cert, None, pki.now) == "tls.client-cert-wrong-usage"


def test_an_issuer_the_server_does_not_list_explains_the_rejection(pki: PKI) -> None:
    cert = loaded(pki.client_rogue("cls-rogue"))

    assert refine_client_cert_rejection(cert, [pki.root.subject], pki.now) == "tls.client-cert-untrusted-ca"


def test_an_intermediate_in_the_file_links_the_certificate_to_a_listed_root(pki: PKI) -> None:
    cert = loaded(pki.client_via_intermediate("cls-via"))

    assert refine_client_cert_rejection(cert, [pki.root.subject], pki.now) == "tls.client-cert-rejected"


def test_without_the_intermediate_the_certificate_does_not_reach_the_listed_root(pki: PKI) -> None:
    files = pki.client_via_intermediate("cls-via-leaf")
    cert = load_client_cert(ClientCert(cert=files.cert, key=files.key))

    assert refine_client_cert_rejection(cert, [pki.root.subject], pki.now) == "tls.client-cert-untrusted-ca"


def test_an_unknown_ca_list_does_not_blame_the_issuer(pki: PKI) -> None:
    cert = loaded(pki.client_rogue("cls-rogue-unknown"))

    assert refine_client_cert_rejection(cert, None, pki.now) == "tls.client-cert-rejected"


def test_a_healthy_certificate_leaves_the_plain_rejection(pki: PKI) -> None:
    cert = loaded(pki.client("cls-ok"))

    assert refine_client_cert_rejection(cert, [pki.root.subject], pki.now) == "tls.client-cert-rejected"
    assert refine_client_cert_rejection(None, None, pki.now) == "tls.client-cert-rejected"


def test_the_clock_decides_expiry(pki: PKI) -> None:
    cert = loaded(pki.client("cls-clock", days_left=3))

    assert refine_client_cert_rejection(cert, None, pki.now + timedelta(days=4)) == "tls.client-cert-expired"
