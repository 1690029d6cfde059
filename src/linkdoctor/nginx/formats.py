"""Machine-readable output of a lint run: plain JSON, and SARIF 2.1.0 for code-scanning UIs.

json.dumps(report_to_json(report))
json.dumps(report_to_sarif(report, base=Path.cwd()))   # URIs relative to base when inside it
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from linkdoctor._version import __version__
from linkdoctor.models import Severity
from linkdoctor.nginx.model import LintFinding, LintReport, Rule
from linkdoctor.report.sarif_log import sarif_log

JSON_FORMAT_VERSION: Final = 1
SARIF_LEVELS: Final = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_to_json(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "severity": str(rule.severity),
        "title": rule.title,
        "explanation": rule.explanation,
        "fix": list(rule.fix),
        "snippet": rule.snippet,
        "tags": list(rule.tags),
    }


def finding_to_json(finding: LintFinding) -> dict[str, Any]:
    return {
        "rule": finding.rule_id,
        "severity": str(finding.severity),
        "file": str(finding.file),
        "line": finding.line,
        "message": finding.message,
        "fix": list(finding.fix),
        "refuses_start": finding.refuses_start,
    }


def report_to_json(report: LintReport) -> dict[str, Any]:
    """The whole report as JSON-ready data (``"version"`` is this format's version, not nginx's)."""
    return {
        "version": JSON_FORMAT_VERSION,
        "config": str(report.config),
        "files": [str(f) for f in report.files],
        "nginx_version": report.nginx_version,
        "rules": [r.id for r in report.rules],
        "summary": {str(s): report.count(s) for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)},
        "refuses_start": report.refuses_start,
        "findings": [finding_to_json(f) for f in report.findings],
    }


def _uri(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.resolve().relative_to(base.resolve()).as_posix()
        except ValueError:
            pass
    return path.resolve().as_uri()


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    steps = "\n".join(f"- {step}" for step in rule.fix)
    return {
        "id": rule.id,
        "name": rule.title,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.explanation},
        "help": {
            "text": "\n".join((rule.explanation, "", *rule.fix, "", rule.snippet)),
            "markdown": f"{rule.explanation}\n\n{steps}\n\n```nginx\n{rule.snippet}\n```",
        },
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {"tags": list(rule.tags)},
    }


def report_to_sarif(report: LintReport, *, base: Path | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; file URIs are relative to ``base`` when under it, else absolute."""
    index = {rule.id: i for i, rule in enumerate(report.rules)}
    results = [
        {
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.file, base)},
                        "region": {"startLine": f.line},
                    }
                }
            ],
            "properties": {"refusesStart": f.refuses_start, "fix": list(f.fix)},
        }
        for f in report.findings
    ]
    return sarif_log(
        tool_version=__version__,
        rules=[_sarif_rule(r) for r in report.rules],
        run={"artifacts": [{"location": {"uri": _uri(f, base)}} for f in report.files], "results": results},
    )
