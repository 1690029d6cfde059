"""The nginx lint rules, one module each, and the registry ``linkdoctor explain`` reads.

from linkdoctor.nginx.rules import RULES, get_rule
get_rule("LDN001").title  # 'ssl_verify_client without a CA to verify against'
"""

from __future__ import annotations

from linkdoctor.nginx.model import Rule
from linkdoctor.nginx.rules import (
    ldn001_missing_client_ca,
    ldn002_client_ca_file,
    ldn003_public_ca_bundle,
    ldn004_verify_depth,
    ldn005_optional_unchecked,
    ldn006_optional_no_ca_unchecked,
    ldn007_error_page_masks,
    ldn008_verify_off_but_checked,
    ldn009_shared_listen,
    ldn010_server_certificate,
    ldn011_crl,
    ldn012_upstream_tls,
    ldn013_directive_context,
    ldn014_invalid_value,
)

__all__ = ["RULES", "Rule", "get_rule"]

RULES: tuple[Rule, ...] = (
    ldn001_missing_client_ca.RULE,
    ldn002_client_ca_file.RULE,
    ldn003_public_ca_bundle.RULE,
    ldn004_verify_depth.RULE,
    ldn005_optional_unchecked.RULE,
    ldn006_optional_no_ca_unchecked.RULE,
    ldn007_error_page_masks.RULE,
    ldn008_verify_off_but_checked.RULE,
    ldn009_shared_listen.RULE,
    ldn010_server_certificate.RULE,
    ldn011_crl.RULE,
    ldn012_upstream_tls.RULE,
    ldn013_directive_context.RULE,
    ldn014_invalid_value.RULE,
)


def get_rule(rule_id: str) -> Rule:
    """The rule with id ``rule_id`` (case-insensitive); ``KeyError`` for an unknown id."""
    wanted = rule_id.strip().upper()
    for rule in RULES:
        if rule.id == wanted:
            return rule
    raise KeyError(rule_id)
