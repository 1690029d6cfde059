"""Specs for the lint outputs: SARIF 2.1.0 (validated against the official schema), JSON, and the
rich text grouped by file."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console
from tests.nginx.materials import FixtureSpec, all_fixtures

from linkdoctor.nginx import LintReport, lint_config
from linkdoctor.nginx.console import render_report
from linkdoctor.nginx.formats import report_to_json, report_to_sarif

SCHEMA_PATH = Path(__file__).parent / "schemas" / "sarif-2.1.0.json"
FIXTURES = {s.id: s for s in all_fixtures()}


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def lint(materialized: Callable[[FixtureSpec], Path], fixture_id: str) -> LintReport:
    return lint_config(materialized(FIXTURES[fixture_id]), nginx_version="1.22.1")


def multi_file_report(tmp_path: Path) -> LintReport:
    (tmp_path / "sites").mkdir()
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n    error_page 495 =200 /x;\n    include sites/*.conf;\n}\n", encoding="utf-8"
    )
    (tmp_path / "sites" / "a.conf").write_text(
        "server {\n    listen 8080;\n    location / { ssl_verify_client on; }\n}\n", encoding="utf-8"
    )
    return lint_config(tmp_path / "nginx.conf")


def test_sarif_with_findings_validates_against_the_sarif_2_1_0_schema(
    tmp_path: Path, sarif_schema: dict[str, Any]
) -> None:
    report = multi_file_report(tmp_path)
    assert report.findings
    jsonschema.Draft4Validator(sarif_schema).validate(report_to_sarif(report, base=tmp_path))


def test_sarif_without_findings_validates_too(
    materialized: Callable[[FixtureSpec], Path], sarif_schema: dict[str, Any]
) -> None:
    report = lint(materialized, "example/readme_example")
    sarif = report_to_sarif(report)
    jsonschema.Draft4Validator(sarif_schema).validate(sarif)
    assert sarif["runs"][0]["results"] == []


def test_sarif_results_point_at_rule_file_and_line(tmp_path: Path) -> None:
    sarif = report_to_sarif(multi_file_report(tmp_path), base=tmp_path)
    run = sarif["runs"][0]
    located = [
        (
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    ]
    assert located == [("LDN007", "warning", "nginx.conf", 3), ("LDN013", "error", "sites/a.conf", 3)]
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_sarif_uses_absolute_file_uris_outside_the_base(tmp_path: Path) -> None:
    report = multi_file_report(tmp_path)
    uri = report_to_sarif(report, base=tmp_path / "elsewhere")["runs"][0]["results"][0]["locations"][0]
    assert uri["physicalLocation"]["artifactLocation"]["uri"] == (tmp_path / "nginx.conf").as_uri()


def test_json_lists_findings_with_rule_severity_file_line_and_fix(tmp_path: Path) -> None:
    data = report_to_json(multi_file_report(tmp_path))
    first = data["findings"][0]
    assert (first["rule"], first["severity"], first["file"], first["line"]) == (
        "LDN007",
        "warning",
        str(tmp_path / "nginx.conf"),
        3,
    )
    assert first["fix"]
    assert data["summary"] == {"error": 1, "warning": 1, "info": 0}
    assert data["refuses_start"] is True
    json.dumps(data)


def render(report: LintReport, base: Path | None = None) -> str:
    buffer = io.StringIO()
    render_report(report, Console(file=buffer, width=200, color_system=None), base=base)
    return buffer.getvalue()


def test_text_groups_findings_under_their_file(tmp_path: Path) -> None:
    lines = render(multi_file_report(tmp_path), base=tmp_path).splitlines()
    main = lines.index("nginx.conf")
    site = lines.index("sites/a.conf")
    ldn007 = next(i for i, line in enumerate(lines) if "LDN007" in line)
    ldn013 = next(i for i, line in enumerate(lines) if "LDN013" in line)
    assert main < ldn007 < site < ldn013
    assert lines[ldn013].split()[:3] == ["3", "error", "LDN013"]
    assert "2 findings (1 error, 1 warning; 2 files read). nginx would refuse this configuration." in lines


def test_text_for_a_clean_config_says_so(materialized: Callable[[FixtureSpec], Path]) -> None:
    report = lint(materialized, "example/readme_example")
    assert render(report).strip().startswith("No findings in ")
