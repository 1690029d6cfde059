"""LDN006: ``ssl_verify_client optional_no_ca`` with nothing checking who the client is."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule

# Variables that identify the presented certificate; forwarding the certificate itself lets the
# application verify it, which is what optional_no_ca is for.
IDENTITY_VARIABLES: Final = (
    "ssl_client_verify",
    "ssl_client_fingerprint",
    "ssl_client_s_dn",
    "ssl_client_s_dn_legacy",
    "ssl_client_i_dn",
    "ssl_client_i_dn_legacy",
    "ssl_client_serial",
    "ssl_client_cert",
    "ssl_client_escaped_cert",
    "ssl_client_raw_cert",
)


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.protocol != "http" or server.verify_mode != "optional_no_ca":
            continue
        if server.checks(IDENTITY_VARIABLES, ctx.http()):
            continue
        yield RULE.finding(
            server.anchor(server.verify_directive),
            f"{server.label} has ssl_verify_client optional_no_ca, and nothing checks $ssl_client_verify, "
            "$ssl_client_fingerprint or $ssl_client_s_dn, nor passes the certificate to the application: "
            "a certificate from anyone passes",
        )


RULE = Rule(
    id="LDN006",
    severity=Severity.ERROR,
    title="ssl_verify_client optional_no_ca, but nothing checks the client's identity",
    explanation=(
        "optional_no_ca requests a client certificate but does not require it to be issued by a trusted "
        "CA: any self-made certificate is accepted. It is meant for setups where something else decides "
        "— a check of $ssl_client_fingerprint or $ssl_client_s_dn against an allow-list, or an "
        "application that receives $ssl_client_escaped_cert and verifies it. Without such a check, "
        "anyone's certificate passes."
    ),
    fix=(
        "Check the certificate's identity against an allow-list (map $ssl_client_fingerprint …).",
        "Or pass $ssl_client_escaped_cert to the application and verify it there.",
        "Or, if a CA issues your client certificates, use ssl_verify_client on with ssl_client_certificate.",
    ),
    snippet=(
        "map $ssl_client_fingerprint $client_allowed {\n"
        "    default 0;\n"
        "    3c6e0b8a9c15224a8228b9a98ca1531d2f0e4ab2 1;   # alice\n"
        "}\n"
        "server {\n"
        "    ssl_verify_client optional_no_ca;\n"
        "    if ($client_allowed = 0) { return 403; }\n"
        "}"
    ),
    tags=("ssl", "mtls", "access-control", "security"),
    check=check,
)
