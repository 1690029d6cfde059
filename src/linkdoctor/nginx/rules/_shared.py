"""Helpers several rules share: a server's client CA files, public-bundle detection, and date checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509

from linkdoctor.nginx.certs import (
    CertFile,
    describe,
    fingerprint,
    is_self_signed,
    not_after,
    not_before,
    organization,
)
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.parse import Directive
from linkdoctor.nginx.views import ServerView

EXPIRY_WARNING_DAYS: Final = 30
CLIENT_CA_DIRECTIVES: Final = ("ssl_client_certificate", "ssl_trusted_certificate")
# A private PKI has a handful of roots; a public bundle has over a hundred from as many organizations.
PUBLIC_BUNDLE_MIN_ROOTS: Final = 20
PUBLIC_BUNDLE_MIN_ORGANIZATIONS: Final = 10
PUBLIC_BUNDLE_MIN_SHARED: Final = 5


def client_ca_files(ctx: LintContext, server: ServerView) -> Iterator[tuple[Directive, CertFile]]:
    """The CA files (``ssl_client_certificate``, ``ssl_trusted_certificate``) a server verifies with."""
    for name in CLIENT_CA_DIRECTIVES:
        directive = server.get(name)
        loaded = ctx.certificates_of(directive)
        if directive is not None and loaded is not None:
            yield directive, loaded


def private_ca_files(ctx: LintContext, server: ServerView) -> Iterator[tuple[Directive, CertFile]]:
    """The client CA files that are not public bundles (LDN003 reports those; their hundreds of roots
    would only bury the finding under per-certificate noise)."""
    for directive, loaded in client_ca_files(ctx, server):
        if loaded.problem is not None or public_bundle_reason(ctx, loaded) is None:
            yield directive, loaded


def client_ca_certificates(ctx: LintContext, server: ServerView) -> tuple[x509.Certificate, ...]:
    """Every certificate of the server's readable, private client CA files (duplicates removed; once per
    run for each set of files, however many server blocks name it)."""
    files = tuple(loaded for _, loaded in private_ca_files(ctx, server))
    return ctx.memo(("client-ca-certificates", tuple(f.path for f in files)), lambda: _unique(files))


def _unique(files: tuple[CertFile, ...]) -> tuple[x509.Certificate, ...]:
    seen: dict[bytes, x509.Certificate] = {}
    for loaded in files:
        for cert in loaded.certificates:
            seen.setdefault(cert.tbs_certificate_bytes, cert)
    return tuple(seen.values())


def validity_problem(cert: x509.Certificate, now: datetime) -> str | None:
    """``expired on …`` or ``not valid before …`` for a certificate outside its validity window."""
    if not_after(cert) < now:
        return f"{describe(cert.subject)} expired on {not_after(cert):%Y-%m-%d}"
    if not_before(cert) > now:
        return f"{describe(cert.subject)} is not valid before {not_before(cert):%Y-%m-%d}"
    return None


def expires_soon(cert: x509.Certificate, now: datetime) -> int | None:
    """Days left when the certificate expires within ``EXPIRY_WARNING_DAYS``, else ``None``."""
    left = not_after(cert) - now
    if timedelta(0) <= left < timedelta(days=EXPIRY_WARNING_DAYS):
        return left.days
    return None


def public_bundle_reason(ctx: LintContext, loaded: CertFile) -> str | None:
    """Why ``loaded`` looks like a public CA bundle, or ``None`` (judged once per file and run)."""
    return ctx.memo(("public-bundle", loaded.path), lambda: _public_bundle_reason(ctx, loaded))


def _public_bundle_reason(ctx: LintContext, loaded: CertFile) -> str | None:
    if ctx.system_trust.is_trust_store_file(loaded.path):
        return "is the system trust store"
    roots = [c for c in loaded.certificates if is_self_signed(c)]
    organizations = {organization(c) for c in roots}
    if len(roots) >= PUBLIC_BUNDLE_MIN_ROOTS and len(organizations) >= PUBLIC_BUNDLE_MIN_ORGANIZATIONS:
        return f"holds {len(roots)} root CAs from {len(organizations)} organizations"
    shared = sum(1 for c in loaded.certificates if fingerprint(c) in ctx.system_trust.fingerprints)
    if shared >= PUBLIC_BUNDLE_MIN_SHARED:
        return f"holds {shared} root CAs of the system trust store"
    return None
