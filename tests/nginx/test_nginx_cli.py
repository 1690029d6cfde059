"""Specs for ``linkdoctor nginx lint`` and ``linkdoctor nginx rules`` (linkdoctor.cli.nginx), run through
the real click group: exit codes 0/2/3, formats, selection and the rule list."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from tests.nginx.materials import FixtureSpec, all_fixtures

from linkdoctor.cli import cli, main

FIXTURES = {s.id: s for s in all_fixtures()}


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["nginx", *args])


@pytest.fixture
def clean_conf(materialized: Callable[[FixtureSpec], Path]) -> Path:
    return materialized(FIXTURES["example/readme_example"])


@pytest.fixture
def warning_conf(materialized: Callable[[FixtureSpec], Path]) -> Path:
    return materialized(FIXTURES["LDN007/trigger_error_page_200"])


def test_a_clean_config_exits_0(clean_conf: Path) -> None:
    result = run("lint", str(clean_conf))
    assert result.exit_code == 0, result.output
    assert "No findings" in result.output


def test_findings_at_the_default_threshold_exit_2(warning_conf: Path) -> None:
    result = run("lint", str(warning_conf))
    assert result.exit_code == 2, result.output
    assert "LDN007" in result.output


def test_warnings_below_fail_on_error_exit_0(warning_conf: Path) -> None:
    assert run("lint", str(warning_conf), "--fail-on", "error").exit_code == 0


def test_fail_on_never_always_exits_0(materialized: Callable[[FixtureSpec], Path]) -> None:
    conf = materialized(FIXTURES["LDN001/trigger_verify_on_without_ca"])
    assert run("lint", str(conf), "--fail-on", "never").exit_code == 0


def test_a_parse_error_exits_3_naming_file_and_line(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text("http {\n    server {\n", encoding="utf-8")
    result = run("lint", str(conf))
    assert result.exit_code == 3
    assert f"{conf}:2: unexpected end of file" in result.output


def test_a_missing_config_exits_3(tmp_path: Path) -> None:
    assert run("lint", str(tmp_path / "nope.conf")).exit_code == 3


def test_an_unknown_rule_selector_exits_3(clean_conf: Path) -> None:
    result = run("lint", str(clean_conf), "--select", "nonsense")
    assert result.exit_code == 3
    assert "unknown nginx rule or tag 'nonsense'" in result.output


def test_an_invalid_nginx_version_exits_3(clean_conf: Path) -> None:
    assert run("lint", str(clean_conf), "--nginx-version", "latest").exit_code == 3


def test_select_and_ignore_take_comma_separated_lists(warning_conf: Path) -> None:
    assert run("lint", str(warning_conf), "--select", "ssl,proxy").exit_code == 0
    assert run("lint", str(warning_conf), "--ignore", "LDN001,LDN007").exit_code == 0
    assert run("lint", str(warning_conf), "--select", "error-page").exit_code == 2


def test_json_output_is_the_report(warning_conf: Path) -> None:
    result = run("lint", str(warning_conf), "--format", "json", "--nginx-version", "1.26.2")
    data = json.loads(result.stdout)
    assert data["nginx_version"] == "1.26.2"
    assert [f["rule"] for f in data["findings"]] == ["LDN007"]


def test_sarif_output_goes_to_the_output_file(warning_conf: Path, tmp_path: Path) -> None:
    out = tmp_path / "nginx.sarif"
    result = run("lint", str(warning_conf), "--format", "sarif", "-o", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert json.loads(out.read_text(encoding="utf-8"))["version"] == "2.1.0"


def test_rules_lists_every_rule() -> None:
    result = run("rules")
    assert result.exit_code == 0
    for n in range(1, 14):
        assert f"LDN{n:03d}" in result.output


def test_rules_as_json_carry_the_documentation() -> None:
    rules = json.loads(run("rules", "--format", "json").stdout)
    assert [r["id"] for r in rules] == [f"LDN{n:03d}" for n in range(1, 15)]
    assert all(r["explanation"] and r["fix"] and r["snippet"] for r in rules)


def test_the_console_script_exits_2_on_findings(warning_conf: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["nginx", "lint", str(warning_conf), "--format", "json"])
    assert caught.value.code == 2
