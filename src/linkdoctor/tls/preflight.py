"""Local checks of a client certificate before (or instead of) asking a server: the doctor's first look.

:func:`preflight` inspects a :class:`~linkdoctor.tls.certs.LoadedClientCert` without any network traffic
and returns :class:`~linkdoctor.models.Finding` values that use the same ``tls.client-cert-*`` codes as
the classifier, so a finding here and a rejection seen on the wire name the same cause::

    for finding in preflight(loaded, now=datetime.now(UTC), acceptable_ca_names=probe.client_ca_names):
        print(finding.severity, finding.code, finding.summary)

An empty result means nothing local is wrong. Every finding carries evidence (subject, issuer, dates,
usages) and fix steps with the exact ``openssl`` command to confirm it by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from linkdoctor.classify.tls import (
    CLIENT_CERT_EXPIRED,
    CLIENT_CERT_NOT_YET_VALID,
    CLIENT_CERT_UNTRUSTED_CA,
    CLIENT_CERT_WRONG_USAGE,
)
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.certs import (
    KEY_MISMATCH,
    LoadedClientCert,
    eku_text,
    reaches_acceptable_ca,
)

ACTOR: Final = "client"
DEFAULT_WARN_DAYS: Final = 14


def preflight(
    cert: LoadedClientCert,
    *,
    now: datetime,
    warn_days: int = DEFAULT_WARN_DAYS,
    acceptable_ca_names: Sequence[x509.Name] | None = None,
) -> tuple[Finding, ...]:
    """Check key match, validity window, key usages and (when the server's CA list is known) the issuer.

    ``now`` must be timezone-aware. ``acceptable_ca_names`` are the CA names from the server's
    CertificateRequest (``ProbeResult.client_ca_names``); without them the issuer is not judged.
    """
    facts = _Facts(cert)
    checks = (
        _key_match(cert, facts),
        _validity(cert.cert, facts, now, warn_days),
        _extended_key_usage(cert.cert, facts),
        _key_usage(cert.cert, facts),
        _issuer(cert, facts, acceptable_ca_names),
    )
    return tuple(finding for finding in checks if finding is not None)


class _Facts:
    """Evidence pairs and the ``openssl`` inspection command for one certificate."""

    def __init__(self, cert: LoadedClientCert) -> None:
        leaf = cert.cert
        self.subject = ("subject", leaf.subject.rfc4514_string())
        self.issuer = ("issuer", leaf.issuer.rfc4514_string())
        self.not_before = ("not_before", leaf.not_valid_before_utc.isoformat())
        self.not_after = ("not_after", leaf.not_valid_after_utc.isoformat())
        self.eku = ("extended_key_usage", eku_text(leaf))
        self.key_usage = ("key_usage", _key_usage_text(leaf))
        self.file = ("file", str(cert.cert_path))
        self.chain = ("intermediates_in_file", str(len(cert.chain)))
        show = "openssl x509 -noout -dates -issuer -subject -ext extendedKeyUsage,keyUsage"
        if cert.source == "pkcs12":
            self.inspect = f"openssl pkcs12 -in {cert.cert_path} -nokeys -clcerts | {show}"
        else:
            der = " -inform DER" if cert.source == "der" else ""
            self.inspect = f"{show}{der} -in {cert.cert_path}"


def _key_match(cert: LoadedClientCert, facts: _Facts) -> Finding | None:
    if cert.key_matches():
        return None
    return Finding(
        code=KEY_MISMATCH,
        severity=Severity.ERROR,
        actor=ACTOR,
        summary="The private key does not belong to the client certificate",
        evidence=(facts.subject, facts.file, ("key_file", str(cert.key_path or cert.cert_path))),
        fix=(
            "Compare the public keys: openssl x509 -noout -pubkey -in client.pem and "
            "openssl pkey -pubout -in client.key must print the same key.",
            "Use the key generated with this certificate's signing request, or reissue both.",
        ),
    )


def _validity(leaf: x509.Certificate, facts: _Facts, now: datetime, warn_days: int) -> Finding | None:
    evidence = (facts.subject, facts.not_before, facts.not_after, ("now", now.isoformat()))
    not_after = leaf.not_valid_after_utc
    not_before = leaf.not_valid_before_utc
    if not_after < now:
        return Finding(
            code=CLIENT_CERT_EXPIRED,
            severity=Severity.ERROR,
            actor=ACTOR,
            summary=f"The client certificate expired on {not_after:%Y-%m-%d} ({_days(now - not_after)} ago)",
            evidence=evidence,
            fix=(f"Confirm the dates: {facts.inspect}", "Renew the certificate with its issuing CA."),
        )
    if not_before > now:
        return Finding(
            code=CLIENT_CERT_NOT_YET_VALID,
            severity=Severity.ERROR,
            actor=ACTOR,
            summary=f"The client certificate is not valid before {not_before:%Y-%m-%d %H:%M} UTC "
            f"(in {_days(not_before - now)})",
            evidence=evidence,
            fix=(
                f"Confirm the dates: {facts.inspect}",
                "Check that this machine's and the server's clocks are right (NTP), or reissue the "
                "certificate with a correct start date.",
            ),
        )
    if not_after - now < timedelta(days=warn_days):
        return Finding(
            code=CLIENT_CERT_EXPIRED,
            severity=Severity.WARNING,
            actor=ACTOR,
            summary=f"The client certificate expires soon: on {not_after:%Y-%m-%d} "
            f"(in {_days(not_after - now)})",
            evidence=evidence,
            fix=(f"Confirm the dates: {facts.inspect}", "Renew the certificate before it expires."),
        )
    return None


def _extended_key_usage(leaf: x509.Certificate, facts: _Facts) -> Finding | None:
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None  # no EKU extension: every usage is allowed
    allowed = {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
    if allowed.intersection(eku):
        return None
    return Finding(
        code=CLIENT_CERT_WRONG_USAGE,
        severity=Severity.ERROR,
        actor=ACTOR,
        summary=f"The certificate's extended key usage ({facts.eku[1]}) does not include clientAuth",
        evidence=(facts.subject, facts.eku),
        fix=(
            f"Confirm the usages: {facts.inspect}",
            "Reissue the certificate with extendedKeyUsage = clientAuth.",
        ),
    )


def _key_usage(leaf: x509.Certificate, facts: _Facts) -> Finding | None:
    try:
        key_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if key_usage.digital_signature:
        return None
    return Finding(
        code=CLIENT_CERT_WRONG_USAGE,
        severity=Severity.ERROR,
        actor=ACTOR,
        summary=f"The certificate's key usage ({facts.key_usage[1]}) lacks digitalSignature, which a TLS "
        "client needs to sign the handshake",
        evidence=(facts.subject, facts.key_usage),
        fix=(
            f"Confirm the usages: {facts.inspect}",
            "Reissue the certificate with keyUsage = digitalSignature.",
        ),
    )


def _issuer(cert: LoadedClientCert, facts: _Facts, acceptable: Sequence[x509.Name] | None) -> Finding | None:
    if not acceptable or reaches_acceptable_ca(cert.cert, cert.chain, acceptable):
        return None
    names = "; ".join(name.rfc4514_string() for name in acceptable)
    if cert.chain:
        summary = (
            f"Neither the issuer ({facts.issuer[1]}) nor the intermediates in the file lead to a CA "
            f"the server accepts ({names})"
        )
    else:
        summary = (
            f"The issuer ({facts.issuer[1]}) is not a CA the server accepts ({names}), and the file "
            "holds no intermediate certificate that could link them"
        )
    return Finding(
        code=CLIENT_CERT_UNTRUSTED_CA,
        severity=Severity.ERROR,
        actor=ACTOR,
        summary=summary,
        evidence=(facts.subject, facts.issuer, ("acceptable_cas", names), facts.chain),
        fix=(
            f"Confirm the issuer: {facts.inspect}",
            "If an intermediate CA under one of the accepted CAs issued the certificate, send it along: "
            "cat client.pem intermediate.pem > client-chain.pem and pass --cert client-chain.pem.",
            f"Otherwise obtain a client certificate from one of: {names}.",
        ),
    )


def _key_usage_text(leaf: x509.Certificate) -> str:
    try:
        key_usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "(none)"
    flags = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    )
    return ", ".join(flag for flag in flags if getattr(key_usage, flag)) or "(empty)"


def _days(delta: timedelta) -> str:
    days = delta.days
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}" if hours >= 1 else "less than an hour"
