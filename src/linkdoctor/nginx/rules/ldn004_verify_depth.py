"""LDN004: the client CA files hold a chain of intermediates deeper than ``ssl_verify_depth`` allows."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from linkdoctor.models import Severity
from linkdoctor.nginx.certs import intermediate_levels
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.rules._shared import client_ca_certificates
from linkdoctor.nginx.views import DEFAULT_VERIFY_DEPTH


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if not server.tls_active or not server.verifies_clients:
            continue
        cas = client_ca_certificates(ctx, server)
        levels = ctx.memo(("intermediate-levels", cas), partial(intermediate_levels, cas))
        if levels == 0:
            continue
        depth_directive = server.get("ssl_verify_depth")
        raw = depth_directive.args[0] if depth_directive and depth_directive.args else None
        if raw is not None and not raw.isdigit():
            continue
        depth = int(raw) if raw is not None else DEFAULT_VERIFY_DEPTH
        if depth >= levels:
            continue
        setting = f"ssl_verify_depth {depth}" if raw is not None else f"the default ssl_verify_depth {depth}"
        yield RULE.finding(
            server.anchor(depth_directive or server.verify_directive),
            f"{server.label}: the client CA files hold a chain of {levels} intermediate CAs, but {setting} "
            f"allows only {depth}: client certificates issued by the lowest intermediate get 495 "
            "(certificate chain too long)",
            fix=(f"Set ssl_verify_depth {levels}; in {server.label}.", *RULE.fix[1:]),
        )


RULE = Rule(
    id="LDN004",
    severity=Severity.ERROR,
    title="ssl_verify_depth too low for the intermediates in the client CA file",
    explanation=(
        "ssl_verify_depth (default 1) limits how many intermediate CAs may stand between a client "
        "certificate and the trusted root. With OpenSSL 1.1 and later the default admits one "
        "intermediate; a client CA file holding a chain of two or more (root, policy CA, issuing CA) "
        "needs a higher depth, or every certificate from the lowest CA is rejected with 495. "
        "(OpenSSL 1.0.2 counted one level more: there, even one intermediate needs depth 2.)"
    ),
    fix=(
        "Set ssl_verify_depth to the number of intermediate CAs between your client certificates and "
        "the root (or higher).",
        "Keep the intermediates and the root in ssl_client_certificate so nginx can build the chain.",
    ),
    snippet=(
        "ssl_client_certificate /etc/nginx/tls/client-ca-chain.pem;  # issuing CA, policy CA, root\n"
        "ssl_verify_client      on;\n"
        "ssl_verify_depth       2;"
    ),
    tags=("ssl", "mtls", "client-ca", "chain"),
    check=check,
)
