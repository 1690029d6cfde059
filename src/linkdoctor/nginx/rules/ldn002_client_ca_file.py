"""LDN002: the client CA file is missing, unreadable, not a CA, outside its validity, or lacks its root."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from linkdoctor.models import Severity
from linkdoctor.nginx.certs import describe, is_ca, missing_issuers
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.rules._shared import expires_soon, private_ca_files, validity_problem
from linkdoctor.nginx.views import ServerView


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.tls_active:
            yield from _check_server(ctx, server)


def _check_server(ctx: LintContext, server: ServerView) -> Iterator[LintFinding]:
    files = list(private_ca_files(ctx, server))
    all_certs = [c for _, loaded in files for c in loaded.certificates]
    paths = tuple(loaded.path for _, loaded in files)
    for directive, loaded in files:
        # nginx loads ssl_client_certificate only when it verifies clients, but ssl_trusted_certificate
        # always (it also serves OCSP stapling).
        loaded_by_nginx = directive.name == "ssl_trusted_certificate" or server.verify_mode != "off"
        if loaded.problem is not None:
            if loaded_by_nginx:
                yield RULE.finding(
                    directive,
                    f"{directive.name} {loaded.path} {loaded.problem}: nginx refuses to start",
                    refuses_start=True,
                    fix=(RULE.fix[0], RULE.fix[3]),
                )
            continue
        if not server.verifies_clients:
            continue
        for cert in loaded.certificates:
            if not is_ca(cert):
                yield RULE.finding(
                    directive,
                    f"{directive.name} {loaded.path} holds {describe(cert.subject)}, which is not a CA "
                    "certificate (basic constraints CA:FALSE): no client certificate can be verified "
                    "through it, so clients it was meant for get 495",
                    fix=(RULE.fix[1], RULE.fix[3]),
                )
                continue
            problem = validity_problem(cert, ctx.now)
            if problem is not None:
                yield RULE.finding(
                    directive,
                    f"client CA {problem} ({directive.name} {loaded.path}): every client certificate it "
                    "issued is rejected with 495",
                    fix=(RULE.fix[2], RULE.fix[3]),
                )
                continue
            days = expires_soon(cert, ctx.now)
            if days is not None:
                yield RULE.finding(
                    directive,
                    f"client CA {describe(cert.subject)} expires in {days} days ({directive.name} "
                    f"{loaded.path}): renew it before clients start getting 495",
                    severity=Severity.WARNING,
                    fix=(RULE.fix[2], RULE.fix[3]),
                )
        orphans = ctx.memo(
            ("missing-issuers", (loaded.path, paths)),
            partial(missing_issuers, loaded.certificates, all_certs),
        )
        for orphan in orphans:
            yield RULE.finding(
                directive,
                f"{directive.name} {loaded.path} holds the intermediate {describe(orphan.subject)} but not "
                f"its issuer {describe(orphan.issuer)}: nginx (OpenSSL) only trusts a chain that ends in a "
                "self-signed root from these files, so its clients get 495",
                fix=(
                    f"Append the root CA {describe(orphan.issuer)} to {loaded.path} (or put it in "
                    "ssl_trusted_certificate).",
                    RULE.fix[3],
                ),
            )


RULE = Rule(
    id="LDN002",
    severity=Severity.ERROR,
    title="Client CA file is missing, unreadable, not a CA, expired or not yet valid",
    explanation=(
        "The files named by ssl_client_certificate and ssl_trusted_certificate are the trust anchors for "
        "client certificates. If one is missing or unreadable nginx refuses to start. If it loads but "
        "holds a certificate that is not a CA, has expired, is not yet valid, or holds an intermediate "
        "without its root, nginx starts but rejects the client certificates that should pass: "
        "they get 495, which nginx sends as a plain 400."
    ),
    fix=(
        "Point the directive at the PEM file of the CA that issues your client certificates; check the "
        "path is readable by the nginx master process.",
        "Use the CA certificate (CA:TRUE), not a client or server certificate.",
        "Include the self-signed root after any intermediates, and renew CAs before they expire.",
        "Check with: openssl x509 -in client-ca.pem -noout -subject -dates -ext basicConstraints",
    ),
    snippet=(
        "# client-ca.pem: the issuing intermediate (if any), then the root\n"
        "ssl_client_certificate /etc/nginx/tls/client-ca.pem;\n"
        "ssl_verify_client      on;"
    ),
    tags=("ssl", "mtls", "client-ca", "certificates", "startup"),
    check=check,
)
