"""Client authentication as the doctor sees it on real servers: the mode (none, optional, required, read
from the handshake or from nginx's 496 page), the acceptable CA names on TLS 1.2 and TLS 1.3, and
``openssl s_server -Verify 1`` refusing in the handshake."""

from __future__ import annotations

import pytest
from tests.integration.doctor.conftest import ClientCerts, DoctorSite, client_cert, run_doctor
from tests.integration.doctor.golden import console_text
from tests.integration.tls.tls_servers import OpenSSLServer
from tests.support.pki import PKI

from linkdoctor.doctor import ClientAuthMode

pytestmark = pytest.mark.nginx

ROOT_NAME = "CN=linkdoctor Test Root CA,O=linkdoctor tests"


def test_server_without_client_auth_is_mode_none_and_healthy(
    doctor_pki: PKI, doctor_site: DoctorSite
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("plain"))
    assert verdict.client_auth.mode is ClientAuthMode.NONE
    assert verdict.findings == ()
    assert verdict.headline.startswith("Healthy: TLSv1.3")
    assert "no client certificate requested" in verdict.headline


def test_nginx_verify_client_on_is_required_through_its_496_page(
    doctor_pki: PKI, doctor_site: DoctorSite
) -> None:
    auth = run_doctor(doctor_pki, doctor_site.url("on")).client_auth
    assert auth.mode is ClientAuthMode.REQUIRED
    assert auth.enforced_by == "HTTP: nginx 496 page (400 No required SSL certificate was sent)"
    assert auth.without_certificate.precise_status == 496


def test_nginx_optional_with_a_public_resource_is_optional(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    auth = run_doctor(doctor_pki, doctor_site.url("optional")).client_auth
    assert auth.mode is ClientAuthMode.OPTIONAL
    assert auth.requested


def test_nginx_optional_with_a_location_returning_496_is_required_there(
    doctor_pki: PKI, doctor_site: DoctorSite
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("optional", "/admin/"))
    assert verdict.client_auth.mode is ClientAuthMode.REQUIRED
    assert verdict.findings[0].code == "tls.client-cert-required"


def test_optional_mode_with_a_valid_certificate_is_accepted_on_the_protected_location(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url("optional", "/admin/"), client_cert(certs.good))
    assert verdict.findings == ()
    assert [r.status for r in verdict.requests] == [400, 200]


@pytest.mark.parametrize(("server", "version"), [("t12", "TLSv1.2"), ("t13", "TLSv1.3")])
def test_acceptable_ca_names_are_read_from_nginx(
    doctor_pki: PKI, doctor_site: DoctorSite, server: str, version: str
) -> None:
    verdict = run_doctor(doctor_pki, doctor_site.url(server))
    assert verdict.server.tls_version == version
    assert verdict.client_auth.acceptable_ca_names == (ROOT_NAME,)


@pytest.mark.parametrize("server", ["t12", "t13"])
def test_acceptable_ca_names_are_shown_in_the_console_report(
    doctor_pki: PKI, doctor_site: DoctorSite, server: str
) -> None:
    text = console_text(run_doctor(doctor_pki, doctor_site.url(server)))
    assert f"Acceptable CAs           {ROOT_NAME}" in text


def test_openssl_server_refuses_a_missing_certificate_in_the_handshake(
    doctor_pki: PKI, openssl_mtls: OpenSSLServer
) -> None:
    verdict = run_doctor(doctor_pki, f"https://127.0.0.1:{openssl_mtls.port}/")
    assert verdict.client_auth.mode is ClientAuthMode.REQUIRED
    assert verdict.client_auth.enforced_by.startswith("handshake: alert ")
    assert verdict.findings[0].code == "tls.client-cert-required"
    assert verdict.client_auth.acceptable_ca_names == (ROOT_NAME,)


def test_openssl_server_rejecting_a_foreign_ca_names_the_accepted_one(
    doctor_pki: PKI, openssl_mtls: OpenSSLServer, certs: ClientCerts
) -> None:
    verdict = run_doctor(doctor_pki, f"https://127.0.0.1:{openssl_mtls.port}/", client_cert(certs.rogue))
    lead = verdict.findings[0]
    assert lead.code == "tls.client-cert-untrusted-ca"
    assert ROOT_NAME in lead.summary
    assert dict(lead.evidence)["server_answer"].startswith("handshake: alert ")


def test_openssl_server_rejecting_an_expired_certificate(
    doctor_pki: PKI, openssl_mtls: OpenSSLServer, certs: ClientCerts
) -> None:
    verdict = run_doctor(doctor_pki, f"https://127.0.0.1:{openssl_mtls.port}/", client_cert(certs.expired))
    assert verdict.findings[0].code == "tls.client-cert-expired"


def test_openssl_server_rejecting_a_certificate_without_client_auth_usage(
    doctor_pki: PKI, openssl_mtls: OpenSSLServer, certs: ClientCerts
) -> None:
    cert = client_cert(certs.server_auth_only)
    verdict = run_doctor(doctor_pki, f"https://127.0.0.1:{openssl_mtls.port}/", cert)
    assert verdict.findings[0].code == "tls.client-cert-wrong-usage"


def test_openssl_server_accepting_a_valid_certificate_is_healthy(
    doctor_pki: PKI, openssl_mtls: OpenSSLServer, certs: ClientCerts
) -> None:
    verdict = run_doctor(doctor_pki, f"https://127.0.0.1:{openssl_mtls.port}/", client_cert(certs.good))
    assert verdict.findings == ()
    assert verdict.requests[-1].status == 200
