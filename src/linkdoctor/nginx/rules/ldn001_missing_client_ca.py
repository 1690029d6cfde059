"""LDN001: ``ssl_verify_client`` asks for client certificates but names no CA to verify them with."""

from __future__ import annotations

from collections.abc import Iterator

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.version import trusted_certificate_suffices


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if not server.tls_active or not server.verifies_clients:
            continue
        if server.get("ssl_client_certificate") is not None:
            continue
        at = server.anchor(server.verify_directive)
        mode = server.verify_mode
        trusted = server.get("ssl_trusted_certificate")
        if trusted is None:
            yield RULE.finding(
                at,
                f"{server.label} has ssl_verify_client {mode} but neither ssl_client_certificate nor "
                "ssl_trusted_certificate: nginx refuses to start "
                '("no ssl_client_certificate for ssl_verify_client")',
                refuses_start=True,
                fix=(RULE.fix[0], RULE.fix[2]),
            )
            continue
        version = ctx.nginx_version
        if version is not None and trusted_certificate_suffices(version):
            continue
        if version is None:
            yield RULE.finding(
                at,
                f"{server.label} has ssl_verify_client {mode} with only ssl_trusted_certificate: nginx "
                "before 1.27.2 refuses to start without ssl_client_certificate (pass --nginx-version to "
                "check against your version)",
                severity=Severity.WARNING,
                fix=RULE.fix[1:],
            )
        else:
            yield RULE.finding(
                at,
                f"{server.label} has ssl_verify_client {mode} with only ssl_trusted_certificate: nginx "
                f"{version} refuses to start without ssl_client_certificate (only 1.27.2 and later accept "
                "ssl_trusted_certificate alone)",
                refuses_start=True,
                fix=RULE.fix[1:],
            )


RULE = Rule(
    id="LDN001",
    severity=Severity.ERROR,
    title="ssl_verify_client without a CA to verify against",
    explanation=(
        "With ssl_verify_client on or optional, nginx must know which CA issues the client certificates: "
        "ssl_client_certificate (or, from nginx 1.27.2 on, ssl_trusted_certificate). Without it nginx "
        'refuses to start ("no ssl_client_certificate for ssl_verify_client"): nginx -t fails and a reload '
        "is rejected, so the change never goes live."
    ),
    fix=(
        "Add ssl_client_certificate with the PEM file of the CA (and intermediates) that issue your "
        "client certificates, in the server block or in http.",
        "On nginx before 1.27.2, ssl_trusted_certificate alone is not enough: add ssl_client_certificate.",
        "Run nginx -t before every reload.",
    ),
    snippet=(
        "server {\n"
        "    listen 443 ssl;\n"
        "    ssl_certificate        /etc/nginx/tls/fullchain.pem;\n"
        "    ssl_certificate_key    /etc/nginx/tls/privkey.pem;\n"
        "    ssl_client_certificate /etc/nginx/tls/client-ca.pem;\n"
        "    ssl_verify_client      on;\n"
        "}"
    ),
    tags=("ssl", "mtls", "client-ca", "startup"),
    check=check,
)
