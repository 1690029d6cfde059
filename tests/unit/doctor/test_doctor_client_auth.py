"""The client-authentication mode, from a probe without a certificate (and the real request)."""

from __future__ import annotations

from cryptography import x509
from tests.unit.doctor.conftest import probe_result

from linkdoctor.doctor import ClientAuthMode, RequestOutcome
from linkdoctor.doctor.client_auth import examine_client_auth, public_anyway
from linkdoctor.tls.probe import ProbeResult

NGINX_496 = "<html><head><title>400 No required SSL certificate was sent</title></head></html>"
CA = x509.Name.from_rfc4514_string("CN=Clients CA,O=Example")


def request(status: int | None, precise: int | None = None, code: str | None = None) -> RequestOutcome:
    return RequestOutcome(False, status, precise, "ok" if status == 200 else "broken", code, "", "")


def test_no_certificate_request_is_mode_none(healthy_probe: ProbeResult) -> None:
    assert examine_client_auth(healthy_probe, None, request(200)).mode is ClientAuthMode.NONE


def test_alert_certificate_required_is_mode_required(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, alert="certificate_required", http_status=None)
    exam = examine_client_auth(seen, None, None)
    assert exam.mode is ClientAuthMode.REQUIRED
    assert exam.enforced_by == "handshake: alert certificate_required"


def test_handshake_failure_after_a_certificate_request_is_mode_required(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, alert="handshake_failure", http_status=None)
    assert examine_client_auth(seen, None, None).mode is ClientAuthMode.REQUIRED


def test_nginx_496_page_behind_a_wire_400_is_mode_required(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, http_status=400, http_body_prefix=NGINX_496)
    exam = examine_client_auth(seen, None, None)
    assert exam.mode is ClientAuthMode.REQUIRED
    assert exam.without_certificate.precise_status == 496


def test_the_real_requests_496_decides_when_the_probe_read_nothing(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, http_status=None, error="read: reset")
    assert examine_client_auth(seen, None, request(400, 496)).mode is ClientAuthMode.REQUIRED


def test_an_answer_without_a_certificate_is_mode_optional(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, client_ca_names=(CA,))
    exam = examine_client_auth(seen, None, request(200))
    assert exam.mode is ClientAuthMode.OPTIONAL
    assert exam.acceptable_ca_names == ("CN=Clients CA,O=Example",)
    assert public_anyway(exam, request(200))


def test_optional_mode_answering_403_is_not_public(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, http_status=403)
    exam = examine_client_auth(seen, None, request(403))
    assert exam.mode is ClientAuthMode.OPTIONAL
    assert not public_anyway(exam, request(403))


def test_a_request_without_any_readable_outcome_is_mode_unknown(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, cert_requested=True, http_status=None, error="read: timed out")
    assert examine_client_auth(seen, None, request(None)).mode is ClientAuthMode.UNKNOWN
