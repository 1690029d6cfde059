"""The client-authentication mode, from a probe without a certificate (and the real request)."""

from __future__ import annotations

from cryptography import x509
from tests.unit.doctor.conftest import probe_result

from linkdoctor.doctor import ClientAuthMode, RequestOutcome
from linkdoctor.doctor.client_auth import examine_client_auth, never_requested, public_anyway
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


NGINX_495 = "<html><head><title>400 The SSL certificate error</title></head></html>"


def test_a_496_page_from_a_server_that_never_asks_for_a_certificate_is_the_operators(
    healthy_probe: ProbeResult,
) -> None:
    # `return 496` in a server without ssl_verify_client: the page blames a certificate that no client
    # can send, since the handshake never asked for one
    seen = probe_result(healthy_probe, http_status=400, http_body_prefix=NGINX_496)
    exam = examine_client_auth(seen, None, request(400, 496))
    assert exam.mode is ClientAuthMode.NONE
    finding = never_requested(exam, seen, [request(400, 496)])
    assert finding is not None
    assert (finding.code, finding.actor) == ("tls.client-cert-never-requested", "operator")
    assert "nginx 496 page (400 No required SSL certificate was sent)" in finding.summary
    assert "ssl_verify_client optional;" in "\n".join(finding.fix)


def test_a_495_answer_to_the_request_with_a_certificate_counts_too(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, http_status=None, error="read: reset")
    without = request(None)
    with_cert = RequestOutcome(True, 400, 495, "broken", "tls.client-cert-rejected", "", "")
    exam = examine_client_auth(seen, None, without)
    finding = never_requested(exam, seen, [without, with_cert])
    assert finding is not None
    assert dict(finding.evidence)["answer"] == (
        "request with a certificate: HTTP nginx 495 page (400 The SSL certificate error)"
    )


def test_a_redirect_to_a_host_that_asks_for_a_certificate_is_not_blamed_on_this_one(
    healthy_probe: ProbeResult,
) -> None:
    # https://app/ → 302 → https://sso/ with ssl_verify_client on: app's handshake asks for nothing, and the
    # 496 is sso's; the request with the certificate gets through
    seen = probe_result(healthy_probe, http_status=302)
    redirected = RequestOutcome(
        False, 400, 496, "broken", "tls.client-cert-required", "", "", redirected=True
    )
    exam = examine_client_auth(seen, None, redirected)
    assert never_requested(exam, seen, [redirected]) is None
    through = RequestOutcome(True, 200, 200, "ok", None, "", "", redirected=True)
    assert never_requested(exam, seen, [redirected, through]) is None


def test_nothing_is_said_of_a_handshake_that_did_not_complete(healthy_probe: ProbeResult) -> None:
    seen = probe_result(healthy_probe, tls_version=None, alert="handshake_failure", http_status=None)
    exam = examine_client_auth(seen, None, request(400, 496))
    assert never_requested(exam, seen, [request(400, 496)]) is None


def test_a_server_that_asks_or_answers_normally_is_not_blamed(healthy_probe: ProbeResult) -> None:
    asks = probe_result(healthy_probe, cert_requested=True, http_status=400, http_body_prefix=NGINX_496)
    assert never_requested(examine_client_auth(asks, None, None), asks, []) is None  # a real 496
    plain = probe_result(healthy_probe, http_status=400, http_body_prefix=NGINX_495.replace("SSL", "TLS"))
    assert never_requested(examine_client_auth(plain, None, request(400)), plain, [request(400)]) is None
