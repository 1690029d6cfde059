"""LDN012: TLS to the upstream: ``proxy_ssl_verify`` without a trusted CA file, and a client
certificate for the upstream without its key (or a key without a certificate)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from linkdoctor.models import Severity
from linkdoctor.nginx.certs import describe, key_matches
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.parse import Directive
from linkdoctor.nginx.views import Scope


@dataclass(frozen=True, slots=True)
class UpstreamModule:
    """A module that can speak TLS to an upstream: its pass directive, TLS schemes and directive prefix."""

    pass_directive: str
    schemes: tuple[str, ...]
    prefix: str


UPSTREAM_MODULES: Final = (
    UpstreamModule("proxy_pass", ("https://",), "proxy"),
    UpstreamModule("grpc_pass", ("grpcs://",), "grpc"),
    UpstreamModule("uwsgi_pass", ("suwsgi://",), "uwsgi"),
)


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        if server.protocol != "http":
            continue
        for scope, directive in server.walk():
            for module in UPSTREAM_MODULES:
                if _passes_over_tls(directive, module):
                    yield from _check_pass(ctx, scope, directive, module)


def _passes_over_tls(directive: Directive, module: UpstreamModule) -> bool:
    return (
        directive.name == module.pass_directive
        and bool(directive.args)
        and directive.args[0].lower().startswith(module.schemes)
    )


def _check_pass(
    ctx: LintContext, scope: Scope, passing: Directive, module: UpstreamModule
) -> Iterator[LintFinding]:
    p = module.prefix
    verify = scope.get(f"{p}_ssl_verify")
    trusted = scope.get(f"{p}_ssl_trusted_certificate")
    if verify is not None and verify.args[:1] == ("on",):
        if trusted is None:
            yield RULE.finding(
                passing,
                f"{p}_ssl_verify is on ({verify.file.name}:{verify.line}) but no {p}_ssl_trusted_certificate "
                f'is set for {passing.name} {passing.args[0]}: nginx refuses to start ("no '
                f'{p}_ssl_trusted_certificate for {p}_ssl_verify")',
                refuses_start=True,
                fix=(RULE.fix[0],),
            )
        else:
            loaded = ctx.certificates_of(trusted)
            if loaded is not None and loaded.problem is not None:
                yield RULE.finding(
                    trusted,
                    f"{trusted.name} {loaded.path} {loaded.problem}: nginx refuses to start",
                    refuses_start=True,
                    fix=(RULE.fix[0],),
                )
    cert = scope.get(f"{p}_ssl_certificate")
    key = scope.get(f"{p}_ssl_certificate_key")
    if cert is not None and key is None:
        yield RULE.finding(
            cert,
            f"{cert.name} is set without {p}_ssl_certificate_key (used by {passing.name} "
            f'{passing.args[0]}): nginx refuses to start ("no {p}_ssl_certificate_key is defined")',
            refuses_start=True,
            fix=(RULE.fix[1],),
        )
    elif key is not None and cert is None:
        yield RULE.finding(
            key,
            f"{key.name} is set without {p}_ssl_certificate: nginx sends no client certificate to "
            f"{passing.args[0]}, and an upstream that requires one answers nginx itself with 400 (496)",
            severity=Severity.WARNING,
            fix=(RULE.fix[1],),
        )
    elif cert is not None and key is not None:
        yield from _check_client_pair(ctx, cert, key)


def _check_client_pair(ctx: LintContext, cert: Directive, key: Directive) -> Iterator[LintFinding]:
    loaded = ctx.certificates_of(cert)
    if loaded is None:
        return
    if loaded.problem is not None:
        yield RULE.finding(
            cert, f"{cert.name} {loaded.path} {loaded.problem}: nginx refuses to start", refuses_start=True
        )
        return
    key_path = ctx.config.resolve(key.args[0]) if key.args else None
    if key_path is None:
        return
    loaded_key = ctx.files.key(key_path)
    if loaded_key.key is None:
        if not loaded_key.encrypted:
            yield RULE.finding(
                key, f"{key.name} {key_path} {loaded_key.problem}: nginx refuses to start", refuses_start=True
            )
        return
    if not key_matches(loaded.certificates[0], loaded_key.key):
        yield RULE.finding(
            key,
            f"{key.name} {key_path} does not belong to {describe(loaded.certificates[0].subject)}: nginx "
            'refuses to start ("key values mismatch")',
            refuses_start=True,
        )


RULE = Rule(
    id="LDN012",
    severity=Severity.ERROR,
    title="TLS to the upstream: verification without a CA, or a client certificate without its key",
    explanation=(
        "When nginx proxies to an https:// upstream, proxy_ssl_verify on needs "
        "proxy_ssl_trusted_certificate to know which CA signs the upstream's certificate; without it "
        "nginx refuses to start. If the upstream requires mutual TLS, nginx must present "
        "proxy_ssl_certificate together with proxy_ssl_certificate_key: a certificate without a key stops "
        "nginx from starting, and a key without a certificate means nginx sends no certificate, so the "
        "upstream answers nginx itself with 400 (its 496) and users see a 502 or that 400."
    ),
    fix=(
        "Add proxy_ssl_trusted_certificate with the CA of the upstream's server certificate next to "
        "proxy_ssl_verify on (and proxy_ssl_name if the upstream name differs).",
        "Set proxy_ssl_certificate and proxy_ssl_certificate_key together, in the same block.",
        "The same applies to grpc_ssl_* with grpcs:// and uwsgi_ssl_* with suwsgi://.",
    ),
    snippet=(
        "location /api/ {\n"
        "    proxy_pass https://10.0.0.5:8443;\n"
        "    proxy_ssl_verify              on;\n"
        "    proxy_ssl_trusted_certificate /etc/nginx/tls/upstream-ca.pem;\n"
        "    proxy_ssl_certificate         /etc/nginx/tls/nginx-client.pem;\n"
        "    proxy_ssl_certificate_key     /etc/nginx/tls/nginx-client.key;\n"
        "}"
    ),
    tags=("ssl", "proxy", "upstream", "mtls", "startup"),
    check=check,
)
