"""The linter's values: a :class:`Rule` (id, severity, docs and its check function), the
:class:`LintFinding` it reports, and the :class:`LintReport` of one run.

A rule module builds one ``Rule`` and reports through it, so every finding carries the rule's id and fix::

    RULE = Rule(id="LDN001", severity=Severity.ERROR, title="…", explanation="…", fix=("…",),
                snippet="ssl_client_certificate /etc/nginx/client-ca.pem;", tags=("ssl",), check=check)

    def check(ctx: LintContext) -> Iterator[LintFinding]:
        yield RULE.finding(directive, "ssl_verify_client is on but …", refuses_start=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from linkdoctor.models import Severity

if TYPE_CHECKING:
    from linkdoctor.nginx.context import LintContext
    from linkdoctor.nginx.parse import Directive

SEVERITY_ORDER: dict[Severity, int] = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


def at_least(severity: Severity, threshold: Severity) -> bool:
    """Whether ``severity`` is ``threshold`` or more serious."""
    return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[threshold]


@dataclass(frozen=True, slots=True)
class LintFinding:
    """One mistake at one place: which rule, how serious, where, what, and how to fix it.

    ``refuses_start`` is true when nginx itself rejects the configuration for this reason (``nginx -t``
    fails, a reload is refused), as opposed to a configuration that loads but misbehaves.
    """

    rule_id: str
    severity: Severity
    file: Path
    line: int
    message: str
    fix: tuple[str, ...] = ()
    refuses_start: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A lint rule: a stable id, its default severity, its documentation and its ``check`` function."""

    id: str
    severity: Severity
    title: str
    explanation: str
    fix: tuple[str, ...]
    snippet: str
    tags: tuple[str, ...]
    check: Callable[[LintContext], Iterable[LintFinding]] = field(repr=False, compare=False)

    def finding(
        self,
        at: Directive,
        message: str,
        *,
        severity: Severity | None = None,
        refuses_start: bool = False,
        fix: tuple[str, ...] | None = None,
    ) -> LintFinding:
        """A finding of this rule at directive ``at`` (its file and line)."""
        return LintFinding(
            rule_id=self.id,
            severity=severity or self.severity,
            file=at.file,
            line=at.line,
            message=message,
            fix=self.fix if fix is None else fix,
            refuses_start=refuses_start,
        )

    def matches(self, selector: str) -> bool:
        """``LDN001`` (the id), ``LDN00`` (an id prefix) or ``ssl`` (a tag) select this rule."""
        selector = selector.strip()
        return self.id.startswith(selector.upper()) or selector.lower() in self.tags


@dataclass(frozen=True, slots=True)
class LintReport:
    """The outcome of linting one configuration: findings in file order, and what was read."""

    config: Path
    files: tuple[Path, ...]
    findings: tuple[LintFinding, ...]
    rules: tuple[Rule, ...]
    nginx_version: str | None = None

    def at_or_above(self, threshold: Severity) -> tuple[LintFinding, ...]:
        return tuple(f for f in self.findings if at_least(f.severity, threshold))

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    @property
    def refuses_start(self) -> bool:
        """Whether nginx would refuse this configuration (``nginx -t`` fails)."""
        return any(f.refuses_start for f in self.findings)
