"""LDN005: ``ssl_verify_client optional`` without anything that checks ``$ssl_client_verify``."""

from __future__ import annotations

from collections.abc import Iterator

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.protocol != "http" or server.verify_mode != "optional":
            continue
        if server.checks(("ssl_client_verify",), ctx.http()):
            continue
        yield RULE.finding(
            server.anchor(server.verify_directive),
            f"{server.label} has ssl_verify_client optional, but no if, map or header passed to the "
            "application checks $ssl_client_verify: requests without a client certificate are served "
            "like verified ones",
        )


RULE = Rule(
    id="LDN005",
    severity=Severity.WARNING,
    title="ssl_verify_client optional, but nothing checks $ssl_client_verify",
    explanation=(
        "With ssl_verify_client optional, nginx asks for a client certificate but also serves clients "
        "that send none ($ssl_client_verify is NONE). Unless a location checks $ssl_client_verify (or "
        "hands it to the application, which checks it), the content is not actually protected by the "
        "client certificate."
    ),
    fix=(
        "Reject requests whose $ssl_client_verify is not SUCCESS where protection is needed, or use "
        "ssl_verify_client on.",
        "Or pass $ssl_client_verify to the application (proxy_set_header) and check it there.",
    ),
    snippet=(
        "ssl_verify_client optional;\n"
        "location /admin/ {\n"
        "    if ($ssl_client_verify != SUCCESS) { return 403; }\n"
        "    proxy_pass http://127.0.0.1:8080;\n"
        "}"
    ),
    tags=("ssl", "mtls", "access-control", "security"),
    check=check,
)
