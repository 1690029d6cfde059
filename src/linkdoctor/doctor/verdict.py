"""Ordering the findings and writing the headline: what is wrong first, and who must act.

Errors come before warnings and notes; among errors, a problem that hides the others comes first (a
server certificate nobody can verify before anything about client certificates, a key that cannot be
used before the certificate's dates). Pure functions::

    ordered = order_findings(findings)
    headline(ordered, server=exam, auth=auth, requests=outcomes)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Final

from linkdoctor.classify import codes_model
from linkdoctor.classify.codes_doctor import (
    CLIENT_AUTH_NOT_ENFORCED,
    CLIENT_CERT_CHAIN_INCOMPLETE,
    CLIENT_CERT_CHAIN_TOO_DEEP,
    CLIENT_CERT_NEVER_REQUESTED,
)
from linkdoctor.classify.tls import (
    CLIENT_CERT_EXPIRED,
    CLIENT_CERT_NOT_YET_VALID,
    CLIENT_CERT_REJECTED,
    CLIENT_CERT_REQUIRED,
    CLIENT_CERT_UNTRUSTED_CA,
    CLIENT_CERT_WRONG_USAGE,
    HANDSHAKE_FAILED,
    SERVER_CERT_EXPIRED,
    SERVER_CERT_HOSTNAME_MISMATCH,
    SERVER_CERT_INCOMPLETE_CHAIN,
    SERVER_CERT_NOT_YET_VALID,
    SERVER_CERT_SELF_SIGNED,
    SERVER_CERT_UNTRUSTED,
)
from linkdoctor.doctor.model import ClientAuthExam, ClientAuthMode, RequestOutcome, ServerExam
from linkdoctor.models import Finding, Severity
from linkdoctor.tls.certs import KEY_MISMATCH

_SEVERITY_RANK: Final[Mapping[Severity, int]] = MappingProxyType(
    {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
)
_PRECEDENCE: Final[tuple[str, ...]] = (
    HANDSHAKE_FAILED,
    SERVER_CERT_EXPIRED,
    SERVER_CERT_NOT_YET_VALID,
    SERVER_CERT_SELF_SIGNED,
    SERVER_CERT_INCOMPLETE_CHAIN,
    SERVER_CERT_UNTRUSTED,
    SERVER_CERT_HOSTNAME_MISMATCH,
    CLIENT_CERT_NEVER_REQUESTED,
    KEY_MISMATCH,
    CLIENT_CERT_REQUIRED,
    CLIENT_CERT_EXPIRED,
    CLIENT_CERT_NOT_YET_VALID,
    CLIENT_CERT_WRONG_USAGE,
    CLIENT_CERT_CHAIN_INCOMPLETE,
    CLIENT_CERT_UNTRUSTED_CA,
    CLIENT_CERT_CHAIN_TOO_DEEP,
    CLIENT_CERT_REJECTED,
    CLIENT_AUTH_NOT_ENFORCED,
)
_WHO: Final[Mapping[str, str]] = MappingProxyType(
    {codes_model.CLIENT: "you (client side)", codes_model.OPERATOR: "the site operator"}
)


def order_findings(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Severity first, then the precedence of causes, then the order they were found in; one per
    (code, summary)."""
    unique = list(dict.fromkeys(findings))
    rank = {code: index for index, code in enumerate(_PRECEDENCE)}
    keyed = sorted(
        enumerate(unique),
        key=lambda item: (
            _SEVERITY_RANK[item[1].severity],
            rank.get(item[1].code, len(rank)),
            item[0],
        ),
    )
    return tuple(finding for _, finding in keyed)


def headline(
    findings: Sequence[Finding],
    *,
    server: ServerExam,
    auth: ClientAuthExam,
    requests: Sequence[RequestOutcome],
) -> str:
    """One line a reader takes in at a glance: healthy, works with warnings, or N problems and who acts.

    >>> # '1 problem; you (client side) must act: The client certificate expired on 2025-01-31 (3 days ago)'
    """
    errors = [f for f in findings if f.severity is Severity.ERROR]
    if errors:
        lead = errors[0]
        count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
        return f"{count}; {_WHO.get(lead.actor, lead.actor)} must act: {lead.summary}"
    summary = _health_summary(server, auth, requests)
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    if warnings:
        count = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}"
        return f"Works ({summary}), with {count}: {warnings[0].summary}"
    return f"Healthy: {summary}"


def _health_summary(server: ServerExam, auth: ClientAuthExam, requests: Sequence[RequestOutcome]) -> str:
    parts = [server.tls_version or "TLS"]
    if server.days_to_expiry is not None:
        parts.append(f"server certificate valid for {server.days_to_expiry} more days")
    presented = next((r for r in requests if r.with_certificate), None)
    if auth.mode is ClientAuthMode.NONE:
        parts.append("no client certificate requested")
    elif presented is not None:
        parts.append(f"client certificate accepted ({auth.mode.value})")
    else:
        parts.append(f"client certificate {auth.mode.value}")
    final = presented or (requests[0] if requests else None)
    if final is not None and final.status is not None:
        parts.append(f"HTTP {final.status}")
    return ", ".join(parts)
