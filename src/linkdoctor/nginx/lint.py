"""Running the rules over a configuration: choosing rules (``select``/``ignore``), running each, and
returning the findings deduplicated and in file order.

    report = lint_config(Path("/etc/nginx/nginx.conf"), nginx_version="1.26.2", ignore=("LDN007",))
    for finding in report.findings:
        print(f"{finding.file}:{finding.line}: {finding.rule_id} {finding.message}")
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from linkdoctor.errors import ConfigError
from linkdoctor.nginx.certs import FileReader
from linkdoctor.nginx.context import LintContext, default_trust_store_paths
from linkdoctor.nginx.model import LintFinding, LintReport, Rule
from linkdoctor.nginx.parse import parse_config
from linkdoctor.nginx.rules import RULES
from linkdoctor.nginx.version import NginxVersion


def select_rules(select: Sequence[str] = (), ignore: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The rules chosen by ids, id prefixes or tags; ``ConfigError`` for a selector matching nothing."""
    for selector in (*select, *ignore):
        if not any(rule.matches(selector) for rule in RULES):
            raise ConfigError(
                f"unknown nginx rule or tag {selector!r} (see `linkdoctor nginx rules` for ids and tags)"
            )
    chosen = [r for r in RULES if not select or any(r.matches(s) for s in select)]
    return tuple(r for r in chosen if not any(r.matches(s) for s in ignore))


def lint_config(
    path: Path,
    *,
    nginx_version: str | None = None,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    now: datetime | None = None,
    trust_store_paths: Sequence[Path] | None = None,
    files: FileReader | None = None,
) -> LintReport:
    """Parse ``path`` with its includes and run the selected rules.

    ``nginx_version`` (``"1.26.2"``) makes version-dependent rules precise; ``now`` pins the clock for
    certificate dates; ``trust_store_paths`` replaces the system CA bundles used to recognise public
    CAs. Raises ``NginxParseError`` (exit code 3) for a configuration that cannot be parsed and
    ``ConfigError`` for an unknown rule selector or version.
    """
    rules = select_rules(select, ignore)
    version = NginxVersion.parse(nginx_version) if nginx_version else None
    config = parse_config(path)
    ctx = LintContext.build(
        config,
        now=now or datetime.now(UTC),
        nginx_version=version,
        trust_store_paths=default_trust_store_paths() if trust_store_paths is None else trust_store_paths,
        files=files,
    )
    found: dict[tuple[str, Path, int, str], LintFinding] = {}
    for rule in rules:
        for finding in rule.check(ctx):
            found.setdefault((finding.rule_id, finding.file, finding.line, finding.message), finding)
    order = {file: index for index, file in enumerate(config.files)}
    findings = sorted(
        found.values(), key=lambda f: (order.get(f.file, len(order)), f.file, f.line, f.rule_id)
    )
    return LintReport(
        config=config.path,
        files=config.files,
        findings=tuple(findings),
        rules=rules,
        nginx_version=str(version) if version else None,
    )
