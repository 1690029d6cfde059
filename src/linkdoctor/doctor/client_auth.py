"""Client authentication as the server does it: ``none``, ``optional`` or ``required``, and the CAs it accepts.

The mode comes from comparing a connection without a certificate against one with it, reading both the
handshake outcome (alert 116 ``certificate_required``, or ``handshake_failure`` after a
CertificateRequest) and the HTTP outcome (nginx's 496 page behind a wire 400). All functions are pure::

    exam = examine_client_auth(without_probe, with_probe, request_without)
    exam.mode                    # ClientAuthMode.REQUIRED
    exam.enforced_by             # 'HTTP: nginx 496 page (400 No required SSL certificate was sent)'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from linkdoctor.classify import codes_model
from linkdoctor.classify.codes_doctor import CLIENT_AUTH_NOT_ENFORCED, CLIENT_CERT_NEVER_REQUESTED
from linkdoctor.classify.nginx_pages import precise_nginx_status
from linkdoctor.classify.tls import CLIENT_CERT_REQUIRED
from linkdoctor.doctor.fixes import nginx_snippet
from linkdoctor.doctor.model import ClientAuthExam, ClientAuthMode, HandshakeOutcome, RequestOutcome
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.probe import ProbeResult

CLIENT: Final = codes_model.CLIENT
OPERATOR: Final = codes_model.OPERATOR

# Alerts a server sends when a client that was asked for a certificate sent none.
_NO_CERT_ALERTS: Final = frozenset({"certificate_required", "handshake_failure", "bad_certificate"})
_NGINX_496_PAGE: Final = "nginx 496 page (400 No required SSL certificate was sent)"
_NGINX_PAGES: Final = {496: _NGINX_496_PAGE, 495: "nginx 495 page (400 The SSL certificate error)"}


def outcome(seen: ProbeResult, *, with_certificate: bool) -> HandshakeOutcome:
    """The handshake and HTTP outcome of one probe."""
    clean = seen.tls_version is not None and seen.alert is None and seen.error is None
    return HandshakeOutcome(
        with_certificate=with_certificate,
        completed=clean or seen.http_status is not None,
        tls_version=seen.tls_version,
        alert=seen.alert,
        http_status=seen.http_status,
        precise_status=precise_status(seen),
        error=seen.error,
    )


def precise_status(seen: ProbeResult) -> int | None:
    """nginx's real status behind the probe's wire status (496 behind 400), else the wire status."""
    body = seen.http_body_prefix.encode("utf-8", "replace")
    return precise_nginx_status(seen.http_status, body) or seen.http_status


def examine_client_auth(
    without: ProbeResult, with_cert: ProbeResult | None, request_without: RequestOutcome | None
) -> ClientAuthExam:
    """Classify the server's client authentication for this URL.

    ``without`` and ``with_cert`` are probes without and with the client certificate; ``request_without``
    is the real request without a certificate (it sees nginx's 496 page even when the probe's read was cut
    short).
    """
    requested = without.cert_requested or (with_cert is not None and with_cert.cert_requested)
    names = without.client_ca_names or (with_cert.client_ca_names if with_cert is not None else ())
    refusal = _refusal(without, request_without) if requested else ""
    if not requested:
        mode = ClientAuthMode.NONE
    elif refusal:
        mode = ClientAuthMode.REQUIRED
    elif without.http_status is not None or _answered(request_without):
        mode = ClientAuthMode.OPTIONAL
    else:
        mode = ClientAuthMode.UNKNOWN
    return ClientAuthExam(
        mode=mode,
        requested=requested,
        enforced_by=refusal,
        acceptable_ca_names=tuple(name.rfc4514_string() for name in names),
        without_certificate=outcome(without, with_certificate=False),
        with_certificate=outcome(with_cert, with_certificate=True) if with_cert is not None else None,
    )


def public_anyway(exam: ClientAuthExam, request_without: RequestOutcome | None) -> bool:
    """Whether a server that asks for a certificate served this resource to a client without one."""
    if exam.mode is not ClientAuthMode.OPTIONAL:
        return False
    status = exam.without_certificate.precise_status
    if request_without is not None and request_without.status is not None:
        status = request_without.precise_status or request_without.status
    return status is not None and 200 <= status < 400


def certificate_required(exam: ClientAuthExam, url: str) -> Finding:
    """No client certificate was configured, and the server refuses without one."""
    accepted = "; ".join(exam.acceptable_ca_names) or "(the server did not name them)"
    return Finding(
        code=CLIENT_CERT_REQUIRED,
        severity=Severity.ERROR,
        actor=CLIENT,
        summary="The server requires a client certificate and none was given "
        f"(refused by {exam.enforced_by})",
        evidence=(
            ("client_auth", exam.mode.value),
            ("refused_by", exam.enforced_by),
            ("acceptable_cas", accepted),
        ),
        fix=(
            f"Obtain a client certificate issued by one of: {accepted}.",
            f"Then run: linkdoctor diagnose {url} --cert client.pem --key client.key",
            "Operator, only if this resource is meant to be public: stop requiring the certificate here.\n"
            + nginx_snippet(
                "in the server block (or serve the resource from another one)", "ssl_verify_client optional;"
            ),
        ),
    )


def not_enforced(exam: ClientAuthExam, request_without: RequestOutcome | None) -> Finding:
    """The server asks for a certificate but served the resource to a client that sent none."""
    status = exam.without_certificate.http_status
    if request_without is not None and request_without.status is not None:
        status = request_without.status
    accepted = "; ".join(exam.acceptable_ca_names) or "(not named)"
    return Finding(
        code=CLIENT_AUTH_NOT_ENFORCED,
        severity=Severity.WARNING,
        actor=OPERATOR,
        summary=f"The server asks for a client certificate but served this resource without one (HTTP "
        f"{status}): it is not protected by mutual TLS",
        evidence=(
            ("client_auth", exam.mode.value),
            ("status_without_certificate", str(status)),
            ("acceptable_cas", accepted),
        ),
        fix=(
            "If the resource must be protected, require the certificate for the whole server:\n"
            + nginx_snippet("in the server block", "ssl_verify_client on;"),
            "Or only for this location:\n"
            + nginx_snippet(
                "in the location block", "if ($ssl_client_verify != SUCCESS) {", "    return 496;", "}"
            ),
            "If the resource is meant to be public, nothing needs fixing.",
        ),
    )


def never_requested(
    exam: ClientAuthExam, without: ProbeResult, requests: Sequence[RequestOutcome]
) -> Finding | None:
    """This host answered with nginx's 495 or 496 page (a certificate missing or refused), yet its completed
    handshake carried no CertificateRequest: the page blames a certificate no client can send. Checked
    before anything else about the client's certificate, which is never the cause here.

    Only this host's own answers count (the probe's, and requests that were not redirected: a redirect's
    target is another server, which may ask for a certificate), and none when a request got through."""
    if exam.mode is not ClientAuthMode.NONE or without.tls_version is None:
        return None
    if any(r.status is not None and 200 <= r.status < 400 for r in requests):
        return None
    answers = [("probe without a certificate", without.http_status, precise_status(without))]
    answers += [
        (f"request {'with' if r.with_certificate else 'without'} a certificate", r.status, r.precise_status)
        for r in requests
        if not r.redirected
    ]
    blamed = [(label, wire, precise) for label, wire, precise in answers if precise in _NGINX_PAGES]
    if not blamed:
        return None
    label, wire, precise = blamed[0]
    page = _NGINX_PAGES[precise] if wire == 400 else f"status {precise}"
    return Finding(
        code=CLIENT_CERT_NEVER_REQUESTED,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server answers with its {page}, but never asks for a client certificate in the TLS "
        "handshake, so no client can send one: every client is refused",
        evidence=(
            ("client_auth", exam.mode.value),
            ("certificate_request", "none in the handshake"),
            ("answer", f"{label}: HTTP {page}"),
        ),
        fix=(
            "Operator: ask for the certificate in the server block that handles the TLS handshake for this "
            "host and port (the one whose server_name matches, else the default server of the listen):\n"
            + nginx_snippet(
                "in the server block",
                "ssl_client_certificate /etc/nginx/client-cas.pem;   # the CAs you accept",
                "ssl_verify_client optional;   # or on",
            ),
            "Find such locations before they ship: linkdoctor nginx lint /etc/nginx/nginx.conf (rule LDN008).",
            "Behind a proxy that ends TLS: ask for the client certificate there and pass its verdict on, or "
            "pass the TLS connection through to nginx.",
        ),
    )


def _refusal(without: ProbeResult, request_without: RequestOutcome | None) -> str:
    """How the server refused the client without a certificate, or '' when it did not."""
    if without.alert in _NO_CERT_ALERTS:
        return f"handshake: alert {without.alert}"
    if precise_status(without) == 496:
        return f"HTTP: {_NGINX_496_PAGE}" if without.http_status == 400 else "HTTP: status 496"
    if request_without is not None:
        if request_without.precise_status == 496:
            return f"HTTP: {_NGINX_496_PAGE}" if request_without.status == 400 else "HTTP: status 496"
        if request_without.diagnosis_code == CLIENT_CERT_REQUIRED:
            return f"request: {request_without.error or request_without.diagnosis_summary}"
    return ""


def _answered(request: RequestOutcome | None) -> bool:
    return request is not None and request.status is not None
