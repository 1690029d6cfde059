"""LDN011: ``ssl_crl`` is missing, expired, or not issued by the client CAs (every client gets 495)."""

from __future__ import annotations

from collections.abc import Iterator

from linkdoctor.models import Severity
from linkdoctor.nginx.certs import crl_issued_by, describe, is_ca
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.rules._shared import client_ca_certificates
from linkdoctor.nginx.views import ServerView


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.tls_active:
            yield from _check_server(ctx, server)


def _check_server(ctx: LintContext, server: ServerView) -> Iterator[LintFinding]:
    directive = server.get("ssl_crl")
    if directive is None or not directive.args:
        return
    path = ctx.config.resolve(directive.args[0])
    if path is None:
        return
    loaded = ctx.files.crls(path)
    if loaded.problem is not None:
        yield RULE.finding(
            directive,
            f"ssl_crl {path} {loaded.problem}: nginx refuses to start",
            refuses_start=True,
            fix=(RULE.fix[0], RULE.fix[2]),
        )
        return
    if not server.verifies_clients:
        return
    for crl in loaded.crls:
        if crl.next_update_utc is not None and crl.next_update_utc < ctx.now:
            yield RULE.finding(
                directive,
                f"the CRL of {describe(crl.issuer)} in {path} expired on {crl.next_update_utc:%Y-%m-%d} "
                "(next update passed): nginx rejects every client certificate it covers with 495",
                fix=RULE.fix[1:],
            )
        elif crl.last_update_utc > ctx.now:
            yield RULE.finding(
                directive,
                f"the CRL of {describe(crl.issuer)} in {path} is not valid before "
                f"{crl.last_update_utc:%Y-%m-%d}: nginx rejects every client certificate it covers with 495",
                fix=RULE.fix[1:],
            )
    cas = [c for c in client_ca_certificates(ctx, server) if is_ca(c)]
    if not cas:
        return
    for crl in loaded.crls:
        if not any(crl_issued_by(crl, ca) for ca in cas):
            yield RULE.finding(
                directive,
                f"ssl_crl {path} holds a CRL issued by {describe(crl.issuer)}, which is not one of the "
                "client CAs: it revokes nothing nginx checks",
                severity=Severity.WARNING,
                fix=(RULE.fix[0], RULE.fix[2]),
            )
    for ca in cas:
        if not any(crl_issued_by(crl, ca) for crl in loaded.crls):
            yield RULE.finding(
                directive,
                f"ssl_crl {path} has no CRL issued by the client CA {describe(ca.subject)}: nginx checks "
                "revocation for every certificate in the chain, so clients whose chain passes through it "
                "get 495 (unable to get certificate CRL)",
                fix=(RULE.fix[0], RULE.fix[2]),
            )


RULE = Rule(
    id="LDN011",
    severity=Severity.ERROR,
    title="ssl_crl is missing, expired or not issued by the client CA",
    explanation=(
        "With ssl_crl, nginx checks revocation for every certificate in a client's chain, so it needs a "
        "current CRL from each CA in ssl_client_certificate. A CRL file that is missing or unreadable "
        "stops nginx from starting. A CRL whose next update has passed, or a chain CA without a CRL, "
        "makes verification fail for every client it concerns: they get 495 (sent as 400) although "
        "their certificates are fine."
    ),
    fix=(
        "Concatenate a current CRL from every CA in the client CA file (root and intermediates) into "
        "the ssl_crl file.",
        "Regenerate CRLs before their next-update time (a cron job or your CA's publishing schedule), "
        "then reload nginx.",
        "Check with: openssl crl -in crl.pem -noout -issuer -lastupdate -nextupdate",
    ),
    snippet=(
        "ssl_client_certificate /etc/nginx/tls/client-ca.pem;\n"
        "ssl_crl                /etc/nginx/tls/client-ca.crl.pem;  # one CRL per CA, kept current\n"
        "ssl_verify_client      on;"
    ),
    tags=("ssl", "mtls", "crl", "revocation", "startup"),
    check=check,
)
