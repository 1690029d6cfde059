"""LDN009: server blocks on one TLS address differ in their client-certificate settings (421s, and
CVE-2025-23419 on older nginx)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.parse import Directive
from linkdoctor.nginx.version import CVE_2025_23419, affected_by_cve_2025_23419
from linkdoctor.nginx.views import DEFAULT_VERIFY_DEPTH, ServerView


@dataclass(frozen=True, slots=True)
class ClientCertSettings:
    """The client-certificate settings that must agree between servers sharing an address."""

    verify: str
    client_certificate: str
    trusted_certificate: str
    verify_depth: str
    crl: str

    @classmethod
    def of(cls, ctx: LintContext, server: ServerView) -> ClientCertSettings:
        def path(name: str) -> str:
            directive = server.get(name)
            if directive is None or not directive.args:
                return ""
            resolved = ctx.config.resolve(directive.args[0])
            return str(resolved) if resolved else directive.args[0]

        return cls(
            verify=server.verify_mode,
            client_certificate=path("ssl_client_certificate"),
            trusted_certificate=path("ssl_trusted_certificate"),
            verify_depth=server.scope.value("ssl_verify_depth", str(DEFAULT_VERIFY_DEPTH)),
            crl=path("ssl_crl"),
        )


def check(ctx: LintContext) -> Iterator[LintFinding]:
    groups: dict[str, list[tuple[ServerView, Directive | None]]] = defaultdict(list)
    tls_addresses: set[str] = set()
    for server in ctx.servers:
        if server.protocol != "http":
            continue
        for listen in server.listens:
            groups[listen.address].append((server, listen.directive))
            if listen.ssl or server.ssl_listen:
                tls_addresses.add(listen.address)
    for address, members in groups.items():
        if address not in tls_addresses or len(members) < 2:
            continue
        settings = {id(s): ClientCertSettings.of(ctx, s) for s, _ in members}
        if len(set(settings.values())) < 2:
            continue
        yield _finding(ctx, address, members, settings)


def _finding(
    ctx: LintContext,
    address: str,
    members: list[tuple[ServerView, Directive | None]],
    settings: dict[int, ClientCertSettings],
) -> LintFinding:
    verifying = [(s, d) for s, d in members if settings[id(s)].verify != "off"]
    server, listen = (verifying or members)[0]
    parts = ", ".join(f"{s.label}: ssl_verify_client {settings[id(s)].verify}" for s, _ in members)
    message = (
        f"server blocks listening on {address} differ in client-certificate settings ({parts}). A client "
        "whose SNI picks one server and whose Host header picks another gets 421 Misdirected Request"
    )
    version = ctx.nginx_version
    severity = RULE.severity
    fix = RULE.fix
    if version is None:
        message += (
            f"; on nginx older than 1.26.3 (stable) or 1.27.4 (mainline), {CVE_2025_23419} lets a client "
            "resume a TLS 1.3 session from one server in another and skip client-certificate verification"
        )
    elif affected_by_cve_2025_23419(version):
        severity = Severity.ERROR
        message += (
            f"; nginx {version} is affected by {CVE_2025_23419}: a client can resume a TLS 1.3 session "
            "from one server in another and skip client-certificate verification"
        )
    else:
        fix = RULE.fix[:2]
    return RULE.finding(listen or server.block, message, severity=severity, fix=fix)


RULE = Rule(
    id="LDN009",
    severity=Severity.WARNING,
    title="Server blocks on one address differ in client-certificate settings",
    explanation=(
        "nginx picks the TLS settings of a connection from the server block that matches the SNI name, "
        "but serves the request from the one that matches the Host header. When server blocks on the "
        "same address:port differ in ssl_verify_client (or their CA, depth or CRL), nginx answers 421 "
        "Misdirected Request whenever SNI and Host select different servers. On nginx before 1.26.3 "
        "(stable) and 1.27.4 (mainline), CVE-2025-23419 goes further: with TLS 1.3 session resumption "
        "(session tickets or a shared session cache), a client can resume a session established with a "
        "server that does not verify client certificates and reach one that does, without a certificate."
    ),
    fix=(
        "Give the mTLS site its own address or port, or use the same client-certificate settings in "
        "every server block on the address.",
        "Use ssl_verify_client optional on all of them and enforce $ssl_client_verify only where needed.",
        "Upgrade nginx to 1.26.3 / 1.27.4 or later; until then set ssl_session_tickets off and do not "
        "share ssl_session_cache between these servers.",
    ),
    snippet=(
        "server {\n"
        "    listen 8443 ssl;             # mTLS site on its own port\n"
        "    server_name api.example.com;\n"
        "    ssl_verify_client on;\n"
        "    ssl_client_certificate /etc/nginx/tls/client-ca.pem;\n"
        "}"
    ),
    tags=("ssl", "mtls", "sni", "security", "cve"),
    check=check,
)
