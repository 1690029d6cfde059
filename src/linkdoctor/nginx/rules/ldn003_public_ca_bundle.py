"""LDN003: the client CA file is a public CA bundle, so any publicly issued certificate is accepted."""

from __future__ import annotations

from collections.abc import Iterator

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.rules._shared import client_ca_files, public_bundle_reason


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if not server.tls_active or not server.verifies_clients:
            continue
        for directive, loaded in client_ca_files(ctx, server):
            if loaded.problem is not None:
                continue
            reason = public_bundle_reason(ctx, loaded)
            if reason is None:
                continue
            yield RULE.finding(
                directive,
                f"{directive.name} {loaded.path} {reason}: {server.label} accepts a client certificate "
                "from any public CA, so anyone who can get a certificate passes verification",
            )


RULE = Rule(
    id="LDN003",
    severity=Severity.ERROR,
    title="Client CA file is a public CA bundle",
    explanation=(
        "Client certificates should be verified against the private CA that issues them. When "
        "ssl_client_certificate or ssl_trusted_certificate names a public bundle such as the system trust "
        "store (/etc/ssl/certs/ca-certificates.crt), a certificate from any public CA passes "
        "verification: $ssl_client_verify is SUCCESS for strangers. ssl_client_certificate also sends "
        "the names of every CA in the file to each client, which bloats every handshake."
    ),
    fix=(
        "Create a file with only the CA (and intermediates) that issue your client certificates and "
        "point ssl_client_certificate at it.",
        "If you must accept a public CA, also check $ssl_client_s_dn or $ssl_client_fingerprint against "
        "an allow-list.",
    ),
    snippet="ssl_client_certificate /etc/nginx/tls/client-ca.pem;   # your private client CA only",
    tags=("ssl", "mtls", "client-ca", "security"),
    check=check,
)
