"""``nginx lint`` says only what applies: each finding's own fix steps, every parse error, and the default
configuration path when none is named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.nginx.materials import FixtureSpec, all_fixtures

import linkdoctor.cli.nginx as nginx_cli
from linkdoctor.cli import cli
from linkdoctor.nginx import lint_config
from linkdoctor.nginx.parse import NginxParseError, parse_config
from linkdoctor.nginx.rules import get_rule

FIXTURES = {s.id: s for s in all_fixtures()}


def only_finding(materialized: Callable[[FixtureSpec], Path], fixture_id: str) -> tuple[str, ...]:
    (finding,) = lint_config(materialized(FIXTURES[fixture_id]), nginx_version="1.26.0").findings
    return finding.fix


def test_a_missing_client_ca_is_not_told_about_the_1_27_2_exception(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    fix = only_finding(materialized, "LDN001/trigger_verify_on_without_ca")
    assert fix[0].startswith("Add ssl_client_certificate")
    assert not any("1.27.2" in step for step in fix)


def test_a_trusted_certificate_alone_is_told_only_about_the_1_27_2_exception(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    fix = only_finding(materialized, "LDN001/trigger_trusted_only_before_1_27_2")
    assert fix[0].startswith("On nginx before 1.27.2")
    assert len(fix) == len(get_rule("LDN001").fix) - 1


@pytest.mark.parametrize(
    ("fixture_id", "wanted", "unwanted"),
    [
        ("LDN002/trigger_not_a_ca", "CA:TRUE", "renew"),
        ("LDN002/trigger_expired_ca", "renew", "CA:TRUE"),
        ("LDN010/trigger_expired_certificate", "Renew", "ssl_certificate_key"),
        ("LDN010/trigger_key_mismatch", "ssl_certificate_key", "Renew"),
    ],
)
def test_each_finding_gets_only_its_own_fix_steps(
    materialized: Callable[[FixtureSpec], Path], fixture_id: str, wanted: str, unwanted: str
) -> None:
    fix = " ".join(only_finding(materialized, fixture_id))
    assert wanted in fix
    assert unwanted not in fix


def test_every_parse_error_is_reported(tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n  ssl_verify_client;\n  server { listen 443 ssl; ssl_verify_depth; }\n"
        "  include missing.conf;\n}\n"
    )
    with pytest.raises(NginxParseError) as caught:
        parse_config(conf)
    assert [(p.file, p.line) for p in caught.value.problems] == [(conf, 3), (conf, 4), (conf, 5)]

    result = CliRunner().invoke(cli, ["nginx", "lint", str(conf)])
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 3
    assert all(line.startswith("linkdoctor: error: ") for line in lines)
    assert [line.split(".conf:")[1].split(":")[0] for line in lines] == ["3", "4", "5"]


def test_no_path_lints_the_default_configuration(
    materialized: Callable[[FixtureSpec], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = materialized(FIXTURES["LDN007/trigger_error_page_200"])
    monkeypatch.setattr(nginx_cli, "DEFAULT_CONFIG", conf)

    result = CliRunner().invoke(cli, ["nginx", "lint"])

    assert result.exit_code == 2, result.output
    assert "LDN007" in result.stdout


def test_no_path_and_no_default_configuration_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nginx_cli, "DEFAULT_CONFIG", tmp_path / "nginx.conf")

    result = CliRunner().invoke(cli, ["nginx", "lint"])

    assert result.exit_code == 3
    assert result.stderr.strip() == (
        f"linkdoctor: error: no configuration named and {tmp_path / 'nginx.conf'} does not exist: name the "
        "main file, e.g. linkdoctor nginx lint /usr/local/nginx/conf/nginx.conf (nginx -V shows its --conf-path)"
    )
