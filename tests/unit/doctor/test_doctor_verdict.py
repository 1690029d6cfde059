"""Ordering the findings and the headline."""

from __future__ import annotations

from linkdoctor.doctor.verdict import order_findings
from linkdoctor.models import Finding, Severity


def finding(code: str, severity: Severity = Severity.ERROR, actor: str = "client") -> Finding:
    return Finding(code=code, severity=severity, actor=actor, summary=code)


def test_errors_come_before_warnings() -> None:
    ordered = order_findings(
        [finding("tls.server-cert-expired", Severity.WARNING), finding("tls.client-cert-expired")]
    )
    assert [f.code for f in ordered] == ["tls.client-cert-expired", "tls.server-cert-expired"]


def test_a_server_certificate_problem_leads_client_problems() -> None:
    ordered = order_findings([finding("tls.client-cert-expired"), finding("tls.server-cert-self-signed")])
    assert ordered[0].code == "tls.server-cert-self-signed"


def test_an_unusable_key_leads_the_certificates_dates() -> None:
    ordered = order_findings([finding("tls.client-cert-expired"), finding("tls.client-cert-key-mismatch")])
    assert ordered[0].code == "tls.client-cert-key-mismatch"


def test_unknown_codes_keep_their_order_after_known_ones() -> None:
    ordered = order_findings(
        [finding("http.not-found"), finding("http.gone"), finding("tls.client-cert-required")]
    )
    assert [f.code for f in ordered] == ["tls.client-cert-required", "http.not-found", "http.gone"]


def test_duplicates_are_dropped() -> None:
    assert len(order_findings([finding("tls.client-cert-expired")] * 2)) == 1
