"""LDN010: the server certificate: missing files, certificate and key that do not match, expiry, and a
chain file without its intermediates."""

from __future__ import annotations

from collections.abc import Iterator

from cryptography import x509

from linkdoctor.models import Severity
from linkdoctor.nginx.certs import describe, is_self_signed, key_matches
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule
from linkdoctor.nginx.parse import Directive
from linkdoctor.nginx.rules._shared import client_ca_certificates, expires_soon, validity_problem
from linkdoctor.nginx.views import ServerView


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for server in ctx.servers:
        certs = server.get_all("ssl_certificate")
        keys = server.get_all("ssl_certificate_key")
        if not certs:
            if server.ssl_listen and server.scope.value("ssl_reject_handshake", "off") != "on":
                yield RULE.finding(
                    next(
                        (lst.directive for lst in server.listens if lst.ssl and lst.directive), server.block
                    ),
                    f"{server.label} listens with ssl but has no ssl_certificate: nginx refuses to start (no "
                    '"ssl_certificate" is defined for the "listen ... ssl" directive)',
                    refuses_start=True,
                    fix=RULE.fix[:2],
                )
            continue
        for index, cert_directive in enumerate(certs):
            key_directive = keys[index] if index < len(keys) else None
            yield from _check_pair(ctx, server, cert_directive, key_directive)


def _check_pair(
    ctx: LintContext, server: ServerView, cert_directive: Directive, key_directive: Directive | None
) -> Iterator[LintFinding]:
    if key_directive is None:
        yield RULE.finding(
            cert_directive,
            f"ssl_certificate {cert_directive.args[0]} has no matching ssl_certificate_key: nginx refuses "
            "to start",
            refuses_start=True,
            fix=(RULE.fix[1],),
        )
    loaded = ctx.certificates_of(cert_directive)
    if loaded is None:
        return  # a variable or data: value, known only at request time
    if loaded.problem is not None:
        yield RULE.finding(
            cert_directive,
            f"ssl_certificate {loaded.path} {loaded.problem}: nginx refuses to start",
            refuses_start=True,
            fix=(RULE.fix[0],),
        )
        return
    leaf = loaded.certificates[0]
    if key_directive is not None:
        yield from _check_key(ctx, server, leaf, key_directive)
    problem = validity_problem(leaf, ctx.now)
    if problem is not None:
        yield RULE.finding(
            cert_directive,
            f"server certificate {problem} ({loaded.path}): clients refuse the TLS connection",
            fix=(RULE.fix[2],),
        )
    else:
        days = expires_soon(leaf, ctx.now)
        if days is not None:
            yield RULE.finding(
                cert_directive,
                f"server certificate {describe(leaf.subject)} expires in {days} days ({loaded.path})",
                severity=Severity.WARNING,
                fix=(RULE.fix[2],),
            )
    yield from _check_chain(ctx, server, cert_directive, loaded.certificates)


def _check_key(
    ctx: LintContext, server: ServerView, leaf: x509.Certificate, key_directive: Directive
) -> Iterator[LintFinding]:
    path = ctx.config.resolve(key_directive.args[0]) if key_directive.args else None
    if path is None:
        return
    passwords: tuple[bytes, ...] = ()
    password_file = server.get("ssl_password_file")
    if password_file is not None and password_file.args:
        password_path = ctx.config.resolve(password_file.args[0])
        lines = ctx.files.password_lines(password_path) if password_path else ()
        if isinstance(lines, str):
            yield RULE.finding(
                password_file,
                f"ssl_password_file {password_path} {lines}: nginx refuses to start",
                refuses_start=True,
            )
            return
        passwords = lines
    key = ctx.files.key(path, passwords)
    if key.key is None:
        yield RULE.finding(
            key_directive,
            f"ssl_certificate_key {path} {key.problem}: nginx refuses to start",
            refuses_start=True,
            fix=(RULE.fix[1],),
        )
        return
    if not key_matches(leaf, key.key):
        yield RULE.finding(
            key_directive,
            f"ssl_certificate_key {path} does not belong to the certificate {describe(leaf.subject)}: "
            'nginx refuses to start ("key values mismatch")',
            refuses_start=True,
            fix=(RULE.fix[1],),
        )


def _check_chain(
    ctx: LintContext, server: ServerView, cert_directive: Directive, chain: tuple[x509.Certificate, ...]
) -> Iterator[LintFinding]:
    leaf = chain[0]
    if len(chain) > 1 or is_self_signed(leaf):
        return
    known_roots = {c.subject for c in client_ca_certificates(ctx, server) if is_self_signed(c)}
    if leaf.issuer in ctx.system_trust.root_subjects or leaf.issuer in known_roots:
        return
    yield RULE.finding(
        cert_directive,
        f"ssl_certificate {cert_directive.args[0]} holds only the server certificate; its issuer "
        f"{describe(leaf.issuer)} is not a root CA of the system trust store, so it is probably an "
        "intermediate that clients need: without it they fail with 'unable to get local issuer certificate'",
        severity=Severity.WARNING,
        fix=(RULE.fix[0],),
    )


RULE = Rule(
    id="LDN010",
    severity=Severity.ERROR,
    title="Server certificate: missing, mismatched key, expired, or chain without intermediates",
    explanation=(
        "Every TLS server block needs a readable ssl_certificate and the matching ssl_certificate_key; "
        "otherwise nginx refuses to start. A certificate that has expired (or is not valid yet) makes "
        "every client refuse the connection, and a certificate file that lacks the intermediate CA "
        "certificates works in some browsers (which cache or fetch them) but fails in link checkers, "
        "curl, and API clients."
    ),
    fix=(
        "Point ssl_certificate at the full chain: the server certificate first, then the intermediates "
        "(for example Let's Encrypt's fullchain.pem, not cert.pem).",
        "Point ssl_certificate_key at the key of that certificate; compare with "
        "openssl x509 -noout -pubkey -in fullchain.pem and openssl pkey -pubout -in privkey.pem.",
        "Renew the certificate before it expires and reload nginx.",
    ),
    snippet=(
        "ssl_certificate     /etc/nginx/tls/fullchain.pem;   # leaf, then intermediates\n"
        "ssl_certificate_key /etc/nginx/tls/privkey.pem;"
    ),
    tags=("ssl", "certificates", "server-cert", "startup"),
    check=check,
)
