"""Preflight: each problem of a client certificate that can be seen locally becomes one finding, with
evidence and fix steps; a healthy certificate gives none."""

from __future__ import annotations

from dataclasses import replace

from cryptography.x509.oid import ExtendedKeyUsageOID
from tests.support.pki import DEFAULT_PASSWORD, PKI, CertFiles

from linkdoctor.config import ClientCert, Secret
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.certs import LoadedClientCert, load_client_cert
from linkdoctor.tls.preflight import preflight


def loaded(files: CertFiles, *, with_chain: bool = True) -> LoadedClientCert:
    return load_client_cert(ClientCert(cert=files.chain if with_chain else files.cert, key=files.key))


def only(findings: tuple[Finding, ...]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def test_a_healthy_certificate_has_no_findings(pki: PKI) -> None:
    assert preflight(loaded(pki.client("pf-ok")), now=pki.now, acceptable_ca_names=[pki.root.subject]) == ()


def test_a_certificate_without_extended_key_usage_may_authenticate_clients(pki: PKI) -> None:
    assert preflight(loaded(pki.client_no_eku("pf-no-eku")), now=pki.now) == ()


def test_an_expired_certificate_is_an_error_with_its_dates(pki: PKI) -> None:
    files = pki.client_expired("pf-expired")

    finding = only(preflight(loaded(files), now=pki.now))

    assert (finding.code, finding.severity, finding.actor) == (
        "tls.client-cert-expired",
        Severity.ERROR,
        "client",
    )
    assert "1 day ago" in finding.summary
    evidence = dict(finding.evidence)
    assert evidence["not_after"] == files.certificate.not_valid_after_utc.isoformat()
    assert evidence["subject"] == "CN=pf-expired,O=linkdoctor tests"


def test_a_not_yet_valid_certificate_is_an_error(pki: PKI) -> None:
    finding = only(preflight(loaded(pki.client_not_yet_valid("pf-nyv")), now=pki.now))

    assert (finding.code, finding.severity) == ("tls.client-cert-not-yet-valid", Severity.ERROR)
    assert any("NTP" in step for step in finding.fix)


def test_a_certificate_expiring_within_the_warning_window_is_a_warning(pki: PKI) -> None:
    finding = only(preflight(loaded(pki.client("pf-soon", days_left=5)), now=pki.now, warn_days=14))

    assert (finding.code, finding.severity) == ("tls.client-cert-expired", Severity.WARNING)
    assert "expires soon" in finding.summary


def test_a_certificate_expiring_after_the_warning_window_is_fine(pki: PKI) -> None:
    assert preflight(loaded(pki.client("pf-later", days_left=30)), now=pki.now, warn_days=14) == ()


def test_server_auth_only_is_the_wrong_usage(pki: PKI) -> None:
    finding = only(preflight(loaded(pki.client_server_auth_only("pf-eku")), now=pki.now))

    assert (finding.code, finding.severity) == ("tls.client-cert-wrong-usage", Severity.ERROR)
    assert dict(finding.evidence)["extended_key_usage"] == "serverAuth"
    assert "clientAuth" in finding.summary


def test_a_key_usage_without_digital_signature_is_the_wrong_usage(pki: PKI) -> None:
    finding = only(preflight(loaded(pki.client_wrong_key_usage("pf-ku")), now=pki.now))

    assert finding.code == "tls.client-cert-wrong-usage"
    assert dict(finding.evidence)["key_usage"] == "key_agreement"


def test_an_issuer_the_server_does_not_accept_is_named_with_the_accepted_ones(pki: PKI) -> None:
    finding = only(
        preflight(loaded(pki.client_rogue("pf-rogue")), now=pki.now, acceptable_ca_names=[pki.root.subject])
    )

    assert finding.code == "tls.client-cert-untrusted-ca"
    assert "CN=Rogue CA" in finding.summary
    assert dict(finding.evidence)["acceptable_cas"] == "CN=linkdoctor Test Root CA,O=linkdoctor tests"


def test_without_the_servers_ca_list_the_issuer_is_not_judged(pki: PKI) -> None:
    assert preflight(loaded(pki.client_rogue("pf-rogue-unknown")), now=pki.now) == ()


def test_an_intermediate_in_the_file_links_the_certificate_to_an_accepted_root(pki: PKI) -> None:
    cert = loaded(pki.client_via_intermediate("pf-via"))

    assert preflight(cert, now=pki.now, acceptable_ca_names=[pki.root.subject]) == ()


def test_a_missing_intermediate_says_how_to_append_it(pki: PKI) -> None:
    cert = loaded(pki.client_via_intermediate("pf-via-leaf"), with_chain=False)

    finding = only(preflight(cert, now=pki.now, acceptable_ca_names=[pki.root.subject]))

    assert finding.code == "tls.client-cert-untrusted-ca"
    assert dict(finding.evidence)["intermediates_in_file"] == "0"
    assert any("cat client.pem intermediate.pem > client-chain.pem" in step for step in finding.fix)


def test_an_accepted_intermediate_needs_no_chain(pki: PKI) -> None:
    cert = loaded(pki.client_via_intermediate("pf-via-accepted"), with_chain=False)

    assert preflight(cert, now=pki.now, acceptable_ca_names=[pki.intermediate.subject]) == ()


def test_a_key_that_does_not_match_is_reported(pki: PKI) -> None:
    good = loaded(pki.client("pf-key-a"))
    other = pki.client("pf-key-b")
    assert other.private_key is not None
    swapped = replace(good, private_key=other.private_key)

    finding = only(preflight(swapped, now=pki.now))

    assert (finding.code, finding.severity) == ("tls.client-cert-key-mismatch", Severity.ERROR)


def test_fix_steps_name_the_openssl_command_for_the_actual_file(pki: PKI) -> None:
    files = pki.client_expired("pf-fix")

    finding = only(preflight(loaded(files), now=pki.now))

    expected = f"openssl x509 -noout -dates -issuer -subject -ext extendedKeyUsage,keyUsage -in {files.chain}"
    assert any(expected in step for step in finding.fix)


def test_fix_steps_for_a_pkcs12_bundle_extract_the_certificate_first(pki: PKI) -> None:
    files = pki.client_pkcs12("pf-p12-exp")
    cert = load_client_cert(ClientCert(pkcs12=files.p12, password=Secret(DEFAULT_PASSWORD)))

    finding = only(preflight(cert, now=pki.now.replace(year=pki.now.year + 2)))

    assert any(f"openssl pkcs12 -in {files.p12} -nokeys -clcerts |" in step for step in finding.fix)


def test_several_problems_give_several_findings(pki: PKI) -> None:
    files = pki.issue(
        "pf-many",
        issuer=pki.rogue,
        eku=(ExtendedKeyUsageOID.SERVER_AUTH,),
        not_before=pki.now.replace(year=pki.now.year - 2),
        not_after=pki.now.replace(year=pki.now.year - 1),
    )

    findings = preflight(loaded(files), now=pki.now, acceptable_ca_names=[pki.root.subject])

    assert [f.code for f in findings] == [
        "tls.client-cert-expired",
        "tls.client-cert-wrong-usage",
        "tls.client-cert-untrusted-ca",
    ]
