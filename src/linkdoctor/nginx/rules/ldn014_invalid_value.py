"""LDN014: a certificate-verification directive with a value nginx does not accept (``ssl_verify_client
yes``, ``ssl_verify_depth two``). On/off directives such as ``proxy_ssl_verify`` need no rule: the parser
already refuses another value, naming file and line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from linkdoctor.models import Severity
from linkdoctor.nginx.context import LintContext
from linkdoctor.nginx.model import LintFinding, Rule

# nginx compares these keywords without regard to case (ngx_conf_set_enum_slot).
VERIFY_CLIENT_VALUES: Final = ("on", "off", "optional", "optional_no_ca")
_KEYWORDS: Final = {"ssl_verify_client": VERIFY_CLIENT_VALUES}
_NUMBERS: Final = frozenset(
    {"ssl_verify_depth", *(f"{prefix}_ssl_verify_depth" for prefix in ("proxy", "grpc", "uwsgi"))}
)


def invalid_value(name: str, value: str) -> str | None:
    """Why nginx refuses ``value`` for directive ``name``, or None when it accepts it (or it is not ours).

    >>> invalid_value("ssl_verify_client", "Optional"), invalid_value("ssl_verify_client", "yes")
    (None, 'it must be "on", "off", "optional" or "optional_no_ca"')
    """
    allowed = _KEYWORDS.get(name)
    if allowed is not None:
        if value.lower() in allowed:
            return None
        quoted = [f'"{v}"' for v in allowed]
        return f"it must be {', '.join(quoted[:-1])} or {quoted[-1]}"
    if name in _NUMBERS and not value.isdigit():
        return "it must be a whole number of certificates (for example 2)"
    return None


def check(ctx: LintContext) -> Iterator[LintFinding]:
    for directive in ctx.config.walk():
        if len(directive.args) != 1:
            continue
        reason = invalid_value(directive.name, directive.args[0])
        if reason is None:
            continue
        yield RULE.finding(
            directive,
            f'"{directive.name} {directive.args[0]}": {reason}; nginx refuses to start ("invalid value")',
            refuses_start=True,
        )


RULE = Rule(
    id="LDN014",
    severity=Severity.ERROR,
    title="Certificate-verification directive with a value nginx does not accept",
    explanation=(
        "ssl_verify_client takes on, off, optional or optional_no_ca, and the *_verify_depth directives "
        "take a number. Values that read naturally, such as yes, true, required or two, are not among "
        "them, and nginx refuses to start with such a config."
    ),
    fix=(
        "Write one of the accepted values: on to require a client certificate, optional to ask for one "
        "and check $ssl_client_verify yourself.",
        "Give verify depths as numbers: the number of intermediate CAs between the root and the client "
        "certificate, plus one.",
    ),
    snippet="server {\n    ssl_verify_client on;\n    ssl_verify_depth 2;\n}",
    tags=("ssl", "mtls", "syntax", "startup"),
    check=check,
)
