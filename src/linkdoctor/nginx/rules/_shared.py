"""Helpers several rules share: the client CA files of a server and the date checks on certificates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509

from linkdoctor.nginx.certs import CertFile, describe, not_after, not_before
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.parse import Directive
from linkdoctor.nginx.views import ServerView

EXPIRY_WARNING_DAYS: Final = 30
CLIENT_CA_DIRECTIVES: Final = ("ssl_client_certificate", "ssl_trusted_certificate")


def client_ca_files(ctx: LintContext, server: ServerView) -> Iterator[tuple[Directive, CertFile]]:
    """The CA files (``ssl_client_certificate``, ``ssl_trusted_certificate``) a server verifies with."""
    for name in CLIENT_CA_DIRECTIVES:
        directive = server.get(name)
        loaded = ctx.certificates_of(directive)
        if directive is not None and loaded is not None:
            yield directive, loaded


def client_ca_certificates(ctx: LintContext, server: ServerView) -> tuple[x509.Certificate, ...]:
    """Every certificate of the server's readable client CA files (duplicates removed)."""
    seen: dict[bytes, x509.Certificate] = {}
    for _, loaded in client_ca_files(ctx, server):
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
