"""LDN008: a server checks the client certificate (``return 496``, ``$ssl_client_verify``) but never
asks for one (``ssl_verify_client off``)."""

from __future__ import annotations

from collections.abc import Iterator

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.views import derived_variables, variables_in


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.protocol != "http" or server.verify_mode != "off":
            continue
        tainted = derived_variables(server, frozenset({"ssl_client_verify"}), ctx.http())
        for _, directive in server.walk():
            if directive.name == "return" and directive.args[:1] in (("495",), ("496",)):
                what = f"return {directive.args[0]}"
            elif directive.name == "if" and variables_in(directive.args) & tainted:
                what = "a check of $ssl_client_verify"
            else:
                continue
            yield RULE.finding(
                directive,
                f"{what} in {server.label}, whose ssl_verify_client is off: nginx never asks for a client "
                "certificate there, so $ssl_client_verify is always NONE and every client fails",
            )


RULE = Rule(
    id="LDN008",
    severity=Severity.ERROR,
    title="Client certificate checked where nginx never requests one",
    explanation=(
        "nginx requests a client certificate during the TLS handshake only when the server block has "
        "ssl_verify_client on, optional or optional_no_ca (it cannot be set per location). In a server "
        "with ssl_verify_client off, $ssl_client_verify is always NONE, so a location that returns 496 or "
        "rejects requests whose $ssl_client_verify is not SUCCESS fails for every client — including those "
        "that have a valid certificate."
    ),
    fix=(
        "Set ssl_verify_client optional (and ssl_client_certificate) in the server block, and keep the "
        "per-location check.",
        "Or serve the protected locations from a separate server block with ssl_verify_client on.",
    ),
    snippet=(
        "server {\n"
        "    ssl_client_certificate /etc/nginx/tls/client-ca.pem;\n"
        "    ssl_verify_client      optional;\n"
        "    location /admin/ {\n"
        "        if ($ssl_client_verify != SUCCESS) { return 496; }\n"
        "    }\n"
        "}"
    ),
    tags=("ssl", "mtls", "access-control"),
    check=check,
)
