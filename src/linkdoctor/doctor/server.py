"""The server side: the chain the server presented, whether it is complete, trusted and for this host,
and how long it stays valid — the ``openssl s_client -showcerts | openssl x509 -noout -dates`` routine.

:func:`examine_server` turns a probe (made without a client certificate) into a
:class:`~linkdoctor.doctor.model.ServerExam`; :func:`server_findings` judges it. Both are pure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final

from cryptography import x509
from cryptography.x509.oid import NameOID

from linkdoctor.classify import codes_model
from linkdoctor.classify.tls import (
    HANDSHAKE_FAILED,
    SERVER_CERT_EXPIRED,
    SERVER_CERT_HOSTNAME_MISMATCH,
    SERVER_CERT_INCOMPLETE_CHAIN,
    SERVER_CERT_NOT_YET_VALID,
    SERVER_CERT_SELF_SIGNED,
    SERVER_CERT_UNTRUSTED,
    classify_verify_code,
    publishes_issuer,
)
from linkdoctor.doctor.fixes import days_text, nginx_snippet
from linkdoctor.doctor.model import CertSummary, ServerExam
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.certs import is_ca
from linkdoctor.tls.probe import ProbeResult

OPERATOR: Final = codes_model.OPERATOR

# OpenSSL's X509_verify_cert_error_string() texts for the codes a server chain commonly fails with.
_VERIFY_TEXTS: Final[Mapping[int, str]] = MappingProxyType(
    {
        0: "ok",
        2: "unable to get issuer certificate",
        9: "certificate is not yet valid",
        10: "certificate has expired",
        18: "self-signed certificate",
        19: "self-signed certificate in certificate chain",
        20: "unable to get local issuer certificate",
        21: "unable to verify the first certificate",
        24: "invalid CA certificate",
        26: "unsupported certificate purpose",
    }
)


def summarize(cert: x509.Certificate) -> CertSummary:
    """The fields of ``cert`` the reports show."""
    return CertSummary(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        sans=_sans(cert),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=is_ca(cert),
        self_issued=cert.subject == cert.issuer,
        publishes_issuer=publishes_issuer(cert),
    )


def hostname_matches(cert: x509.Certificate, host: str) -> bool:
    """Whether ``cert`` is valid for ``host`` under RFC 6125 / RFC 2818 rules, as OpenSSL checks it.

    IP addresses match iPAddress entries only; DNS names match dNSName entries, with a wildcard allowed
    only as the whole leftmost label (``*.example.org`` matches ``a.example.org``, not ``example.org``).
    The subject CN is used only when the certificate has no DNS or IP names at all.

    >>> # hostname_matches(cert_for_example_org, "www.example.org")
    """
    host = host.strip("[]").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        sans = None
    if address is not None:
        return sans is not None and address in sans.get_values_for_type(x509.IPAddress)
    names = [n.lower() for n in sans.get_values_for_type(x509.DNSName)] if sans is not None else []
    if not names and (sans is None or not sans.get_values_for_type(x509.IPAddress)):
        names = [str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return any(_dns_match(pattern.rstrip("."), host) for pattern in names)


def examine_server(seen: ProbeResult, host: str, now: datetime) -> ServerExam:
    """What the server presented in ``seen`` (a probe without a client certificate)."""
    chain = seen.peer_chain
    leaf = chain[0] if chain else None
    code = seen.verify_code
    return ServerExam(
        host=host,
        port=seen.port,
        sni=seen.sni,
        tls_version=seen.tls_version,
        cipher=seen.cipher,
        chain=tuple(summarize(c) for c in chain),
        verify_code=code,
        verify_text=_VERIFY_TEXTS.get(code, f"error {code}") if code is not None else "",
        chain_complete=_chain_complete(code, chain),
        hostname_matches=hostname_matches(leaf, host) if leaf is not None else None,
        days_to_expiry=(leaf.not_valid_after_utc - now).days if leaf is not None else None,
        handshake_error=None if chain else seen.error,
    )


def server_findings(exam: ServerExam, *, now: datetime, warn_days: int) -> list[Finding]:
    """The problems of the server's certificate, worst first; empty for a healthy server."""
    if not exam.chain:
        return [_handshake_failed(exam)]
    leaf = exam.chain[0]
    findings: list[Finding] = []
    if leaf.not_after < now:
        findings.append(_expired(exam, leaf, now))
    elif leaf.not_before > now:
        findings.append(_not_yet_valid(exam, leaf, now))
    if exam.hostname_matches is False:
        findings.append(_hostname_mismatch(exam, leaf))
    if exam.verify_code not in (None, 0):
        code = _verify_code(exam)
        if code == SERVER_CERT_SELF_SIGNED:
            findings.append(_self_signed(exam, leaf))
        elif code == SERVER_CERT_INCOMPLETE_CHAIN:
            findings.append(_incomplete(exam, leaf))
        elif code == SERVER_CERT_EXPIRED and not findings:
            findings.append(_expired(exam, _first_expired(exam, now) or leaf, now))
        elif code == SERVER_CERT_NOT_YET_VALID and not findings:
            early = next((c for c in exam.chain if c.not_before > now), leaf)
            findings.append(_not_yet_valid(exam, early, now))
        elif code == SERVER_CERT_UNTRUSTED:
            findings.append(_untrusted(exam))
    if not findings and exam.days_to_expiry is not None and exam.days_to_expiry < warn_days:
        findings.append(_expiring(exam, leaf, now))
    return findings


# --- findings -----------------------------------------------------------------------------------------


def _confirm(exam: ServerExam, tail: str = "") -> str:
    sni = f" -servername {exam.sni}" if exam.sni else ""
    return f"Confirm: openssl s_client -connect {_hostport(exam)}{sni} -showcerts </dev/null{tail}"


_RENEW = nginx_snippet(
    "point the server block at the renewed certificate, full chain first, and reload (nginx -s reload)",
    "ssl_certificate     /etc/nginx/tls/fullchain.pem;",
    "ssl_certificate_key /etc/nginx/tls/privkey.pem;",
)


def _expired(exam: ServerExam, cert: CertSummary, now: datetime) -> Finding:
    return Finding(
        code=SERVER_CERT_EXPIRED,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server's certificate expired on {cert.not_after:%Y-%m-%d} "
        f"({days_text(now - cert.not_after)} ago)",
        evidence=(("subject", cert.subject), ("not_after", cert.not_after.isoformat()), _now(now)),
        fix=(
            _confirm(exam, " | openssl x509 -noout -dates"),
            "Renew the certificate (for example certbot renew) and install it.",
            _RENEW,
        ),
    )


def _not_yet_valid(exam: ServerExam, cert: CertSummary, now: datetime) -> Finding:
    return Finding(
        code=SERVER_CERT_NOT_YET_VALID,
        severity=Severity.ERROR,
        actor=codes_model.CLIENT,
        summary=f"The server's certificate is valid only from {cert.not_before:%Y-%m-%d %H:%M} UTC "
        f"(in {days_text(cert.not_before - now)}): this machine's clock is behind, or the certificate "
        "was installed too early",
        evidence=(("subject", cert.subject), ("not_before", cert.not_before.isoformat()), _now(now)),
        fix=(
            _confirm(exam, " | openssl x509 -noout -dates"),
            "Check this machine's clock against a reference (timedatectl status; enable NTP if it is behind).",
            "If the start date really is in the future, install a certificate that is valid now and reload.",
        ),
    )


def _expiring(exam: ServerExam, cert: CertSummary, now: datetime) -> Finding:
    return Finding(
        code=SERVER_CERT_EXPIRED,
        severity=Severity.WARNING,
        actor=OPERATOR,
        summary=f"The server's certificate expires soon: on {cert.not_after:%Y-%m-%d} "
        f"(in {days_text(cert.not_after - now)})",
        evidence=(("subject", cert.subject), ("not_after", cert.not_after.isoformat()), _now(now)),
        fix=(
            _confirm(exam, " | openssl x509 -noout -dates"),
            "Renew the certificate now, and check that automatic renewal runs.",
            _RENEW,
        ),
    )


def _hostname_mismatch(exam: ServerExam, cert: CertSummary) -> Finding:
    covered = ", ".join(cert.sans) or f"no alternative names (subject {cert.subject})"
    return Finding(
        code=SERVER_CERT_HOSTNAME_MISMATCH,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server's certificate is not valid for {exam.host}: it covers {covered}",
        evidence=(("host", exam.host), ("sni", exam.sni or "(none: IP address)"), ("sans", covered)),
        fix=(
            _confirm(exam, " | openssl x509 -noout -ext subjectAltName"),
            f"Issue a certificate whose subjectAltName includes {exam.host}, and serve it from the "
            "server block that answers this name.",
            nginx_snippet(
                "in the server block for this name",
                f"server_name {exam.host};",
                "ssl_certificate     /etc/nginx/tls/fullchain.pem;",
                "ssl_certificate_key /etc/nginx/tls/privkey.pem;",
            ),
        ),
    )


def _self_signed(exam: ServerExam, cert: CertSummary) -> Finding:
    return Finding(
        code=SERVER_CERT_SELF_SIGNED,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server presented a self-signed certificate ({cert.subject}) that nothing trusts",
        evidence=(
            ("subject", cert.subject),
            ("issuer", cert.issuer),
            ("verify_result", f"{exam.verify_code} ({exam.verify_text})"),
        ),
        fix=(
            _confirm(exam),
            "Serve a certificate issued by a trusted CA (a public CA such as Let's Encrypt for public "
            "sites, the internal CA for internal ones).",
            _RENEW,
            "Client, for an internal site only: trust its CA explicitly with --cacert ca.pem; never "
            "disable verification.",
        ),
    )


def _incomplete(exam: ServerExam, cert: CertSummary) -> Finding:
    return Finding(
        code=SERVER_CERT_INCOMPLETE_CHAIN,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"The server sends its certificate without the intermediate CA that issued it ({cert.issuer})",
        evidence=(
            ("certificates_sent", str(len(exam.chain))),
            ("leaf_issuer", cert.issuer),
            ("verify_result", f"{exam.verify_code} ({exam.verify_text})"),
        ),
        fix=(
            _confirm(exam),
            "Build the full chain, leaf first: cat cert.pem intermediate.pem > fullchain.pem",
            nginx_snippet(
                "serve the full chain and reload",
                "ssl_certificate     /etc/nginx/tls/fullchain.pem;",
                "ssl_certificate_key /etc/nginx/tls/privkey.pem;",
            ),
        ),
    )


def _untrusted(exam: ServerExam) -> Finding:
    top = exam.chain[-1]
    if exam.verify_code == 19:
        summary = f"The server's chain ends in a self-signed root that is not trusted here ({top.subject})"
    elif exam.verify_code in (2, 20, 21):
        summary = f"The server's certificate is issued by a CA that is not trusted here ({top.issuer})"
    else:
        summary = f"The server's certificate chain does not verify: {exam.verify_text}"
    return Finding(
        code=SERVER_CERT_UNTRUSTED,
        severity=Severity.ERROR,
        actor=codes_model.EITHER,
        summary=summary,
        evidence=(
            ("certificates_sent", str(len(exam.chain))),
            ("chain_top_issuer", top.issuer),
            ("verify_result", f"{exam.verify_code} ({exam.verify_text})"),
        ),
        fix=(
            f"Client, for a private or internal CA: trust it explicitly with --cacert ca.pem (the CA that "
            f"issued {top.issuer}), or add it to this machine's trust store; never disable verification.",
            _confirm(exam),
            "Operator, for a public site: serve a certificate from a publicly trusted CA, with its "
            "intermediates (ssl_certificate fullchain.pem).",
        ),
    )


def _handshake_failed(exam: ServerExam) -> Finding:
    error = exam.handshake_error or "no certificate received"
    return Finding(
        code=HANDSHAKE_FAILED,
        severity=Severity.ERROR,
        actor=OPERATOR,
        summary=f"No TLS handshake with {_hostport(exam)}: {error}",
        evidence=(("endpoint", _hostport(exam)), ("error", error)),
        fix=(
            _confirm(exam),
            "Check that the port serves TLS (not plain HTTP) and allows TLS 1.2 or 1.3.",
            nginx_snippet(
                "a TLS listener",
                f"listen {exam.port} ssl;",
                "ssl_protocols TLSv1.2 TLSv1.3;",
            ),
        ),
    )


# --- helpers ------------------------------------------------------------------------------------------


def _verify_code(exam: ServerExam) -> str:
    # As classify_verify_code with the chain: a leaf sent alone that names its published issuer lacks
    # its intermediate; otherwise an unknown issuer is an untrusted root.
    code = exam.verify_code or 0
    alone = exam.chain and not any(c.is_ca for c in exam.chain)
    if code in (2, 20, 21) and alone and exam.chain[0].publishes_issuer:
        return SERVER_CERT_INCOMPLETE_CHAIN
    return classify_verify_code(code)


def _chain_complete(code: int | None, chain: tuple[x509.Certificate, ...]) -> bool | None:
    if not chain or code is None:
        return None
    if code == 0:
        return True
    verdict = classify_verify_code(code, chain)
    if verdict == SERVER_CERT_INCOMPLETE_CHAIN:
        return False
    if verdict == SERVER_CERT_UNTRUSTED:
        return None  # an unknown root: complete or not, it cannot be told
    return True


def _first_expired(exam: ServerExam, now: datetime) -> CertSummary | None:
    return next((c for c in exam.chain if c.not_after < now), None)


def _now(now: datetime) -> tuple[str, str]:
    return ("now", now.isoformat())


def _hostport(exam: ServerExam) -> str:
    host = f"[{exam.host}]" if ":" in exam.host else exam.host
    return f"{host}:{exam.port}"


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    names = [*sans.get_values_for_type(x509.DNSName)]
    names += [str(a) for a in sans.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def _dns_match(pattern: str, host: str) -> bool:
    if pattern == host:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[2:]
    first, dot, rest = host.partition(".")
    # The wildcard stands for exactly one non-empty label, and never for a whole registrable domain.
    return bool(first) and bool(dot) and rest == suffix and "." in suffix
