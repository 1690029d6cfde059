"""Turn an HTTP answer into a verdict: category, precise status and diagnosis.

Pure: the caller hands in the wire status, the headers that matter and a bounded body prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from linkdoctor.classify import codes
from linkdoctor.classify.nginx_pages import precise_nginx_status
from linkdoctor.models import Category, Diagnosis

_STATUS_CODES: Mapping[int, str] = {
    400: "http.client-error",
    401: "http.unauthorized",
    403: "http.forbidden",
    404: "http.not-found",
    405: "http.method-not-allowed",
    410: "http.gone",
    429: "http.rate-limited",
    494: "http.request-header-too-large",
    495: "tls.client-cert-rejected",
    496: "tls.client-cert-required",
    497: "http.plain-http-to-https-port",
    502: "http.bad-gateway",
    503: "http.unavailable",
    504: "http.gateway-timeout",
    999: "http.bot-protection",
}
_NEEDS_CERT_HINT = "needs a client certificate (nginx 496): configure one with --cert/--key or [[tls.client]]"


@dataclass(frozen=True, slots=True)
class Verdict:
    category: Category
    precise_status: int
    diagnosis: Diagnosis | None


def is_bot_protection(status: int, headers: Mapping[str, str]) -> bool:
    """Bot walls answer with a status that says nothing about the link (Cloudflare challenges, LinkedIn 999)."""
    if status == 999:
        return True
    return status in (403, 503) and "cf-mitigated" in headers


def diagnosis_for_status(
    precise: int, *, has_client_cert: bool = False, cert_hosts: tuple[str, ...] = (), host: str = ""
) -> Diagnosis | None:
    """The diagnosis for an error status, or ``None`` for success and redirects.

    ``cert_hosts``: the hosts client certificates are configured for (``--cert-host``), when none is for
    this ``host``: a 496 then says so, rather than that no certificate exists.

    >>> diagnosis_for_status(496, cert_hosts=("a.example",), host="b.example").summary.split(";")[0]
    'The server requires a TLS client certificate (mutual TLS)'
    """
    if precise < 400:
        return None
    code = _STATUS_CODES.get(precise)
    if code is None:
        code = "http.server-error" if precise >= 500 else "http.client-error"
    if precise == 496 and not has_client_cert and cert_hosts:
        entry = codes.info(code)
        names = ", ".join(cert_hosts)
        summary = (
            "The server requires a TLS client certificate (mutual TLS); one is configured, but for other "
            f"hosts only (--cert-host {names}), so none was presented to {host or 'this host'}"
        )
        fix = (f"Add {host or 'this host'} to --cert-host (or to the hosts of its [[tls.client]] table).",)
        return Diagnosis(code=code, summary=summary, fix=fix + entry.fix)
    if precise == 496 and not has_client_cert:
        return codes.make(code, _NEEDS_CERT_HINT)
    # Catch-all codes name the status; specific ones already say it in their summary.
    return codes.make(code, f"HTTP {precise}" if precise not in _STATUS_CODES else "")


def classify_response(
    status: int,
    headers: Mapping[str, str],
    body_prefix: bytes,
    *,
    redirected: bool,
    accept: frozenset[int] = frozenset(),
    has_client_cert: bool = False,
    cert_hosts: tuple[str, ...] = (),
    host: str = "",
) -> Verdict:
    """Decide what a final (non-redirect) answer means.

    ``headers`` must have lowercase keys. ``accept`` lists statuses that count as ok (``--accept 496``);
    it matches the precise status as well as the wire status.
    """
    precise = precise_nginx_status(status, body_prefix) or status
    if precise in accept or status in accept:
        return Verdict(Category.REDIRECTED if redirected else Category.OK, precise, None)
    if is_bot_protection(status, headers):
        return Verdict(Category.UNVERIFIED, precise, codes.make("http.bot-protection", f"HTTP {status}"))
    if precise < 400:
        return Verdict(Category.REDIRECTED if redirected else Category.OK, precise, None)
    diagnosis = diagnosis_for_status(
        precise, has_client_cert=has_client_cert, cert_hosts=cert_hosts, host=host
    )
    if precise == 429:
        return Verdict(Category.UNVERIFIED, precise, diagnosis)
    return Verdict(Category.BROKEN, precise, diagnosis)
