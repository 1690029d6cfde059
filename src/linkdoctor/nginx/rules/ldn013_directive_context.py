"""LDN013: a client-certificate directive written where nginx does not allow it (a location, an if)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from crossplane.analyzer import CONTEXTS, DIRECTIVES

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule

CLIENT_CERT_DIRECTIVES: Final = frozenset(
    {
        "ssl_verify_client",
        "ssl_client_certificate",
        "ssl_trusted_certificate",
        "ssl_verify_depth",
        "ssl_crl",
        "ssl_certificate",
        "ssl_certificate_key",
        "ssl_password_file",
        "ssl_ocsp",
        "ssl_ocsp_responder",
        *(
            f"{p}_ssl_{d}"
            for p in ("proxy", "grpc", "uwsgi")
            for d in (
                "certificate",
                "certificate_key",
                "trusted_certificate",
                "verify",
                "verify_depth",
                "crl",
                "password_file",
            )
        ),
    }
)

_CONTEXT_NAMES: Final = {
    (): "the main context",
    ("http", "location"): "a location block",
    ("http", "server", "if"): "an if block",
    ("http", "location", "if"): "an if block",
    ("http", "location", "limit_except"): "a limit_except block",
    ("http", "upstream"): "an upstream block",
    ("stream", "upstream"): "an upstream block",
    ("events",): "the events block",
}


def allowed_here(name: str, context: tuple[str, ...]) -> bool | None:
    """Whether nginx accepts ``name`` in ``context`` (crossplane's table); ``None`` when unknown."""
    masks = DIRECTIVES.get(name)
    mask = CONTEXTS.get(context)
    if masks is None or mask is None:
        return None
    return any(m & mask for m in masks)


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for directive in ctx.config.walk():
        if directive.name not in CLIENT_CERT_DIRECTIVES:
            continue
        if allowed_here(directive.name, directive.context) is not False:
            continue
        where = _CONTEXT_NAMES.get(directive.context, " > ".join(directive.context) or "the main context")
        yield RULE.finding(
            directive,
            f'"{directive.name}" is not allowed in {where}: nginx refuses to start ("directive is not '
            'allowed here")',
            refuses_start=True,
        )


RULE = Rule(
    id="LDN013",
    severity=Severity.ERROR,
    title="Client-certificate directive in a context where nginx does not allow it",
    explanation=(
        "ssl_verify_client, ssl_client_certificate, ssl_verify_depth, ssl_crl and the server certificate "
        "directives belong in the http or server block: the TLS handshake happens before nginx knows "
        "which location a request is for, so they cannot be set per location or inside if. Written there, "
        'they make nginx refuse to start ("directive is not allowed here").'
    ),
    fix=(
        "Move the directive to the server block (or http for all servers).",
        "To require a certificate only for some paths, use ssl_verify_client optional in the server and "
        "check $ssl_client_verify in those locations.",
    ),
    snippet=(
        "server {\n"
        "    ssl_verify_client optional;\n"
        "    location /admin/ {\n"
        "        if ($ssl_client_verify != SUCCESS) { return 403; }\n"
        "    }\n"
        "}"
    ),
    tags=("ssl", "mtls", "context", "startup"),
    check=check,
)
