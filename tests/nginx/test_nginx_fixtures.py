"""Every fixture folder, as a spec: configs that must trigger their rule (at the lines marked
``# expect``), configs that must not (false-positive guards), and ``nginx -t`` agreeing with the linter
on whether nginx would refuse the configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.nginx.materials import FixtureSpec, NginxTest, all_fixtures, expected_locations

from linkdoctor.nginx import NginxVersion, lint_config
from linkdoctor.nginx.rules import RULES

FIXTURES = all_fixtures()


@pytest.mark.parametrize("spec", FIXTURES, ids=[s.id for s in FIXTURES])
def test_fixture_triggers_exactly_its_rule(
    spec: FixtureSpec, materialized: Callable[[FixtureSpec], Path]
) -> None:
    conf = materialized(spec)
    report = lint_config(conf, nginx_version=spec.nginx_version)
    found = {f.rule_id for f in report.findings}
    details = "\n".join(f"{f.rule_id} {f.file.name}:{f.line} {f.message}" for f in report.findings)
    if spec.expect == "trigger":
        assert spec.rule in found, f"{spec.description}: {spec.rule} did not trigger\n{details}"
        at = {
            (f.file.relative_to(conf.parent).as_posix(), f.line)
            for f in report.findings
            if f.rule_id == spec.rule
        }
        assert expected_locations(spec.folder) <= at, f"{spec.rule} reported at {sorted(at)}\n{details}"
    else:
        assert spec.rule not in found, f"{spec.description}: false positive\n{details}"
    unexpected = found - {spec.rule} - set(spec.also)
    assert not unexpected, f"{spec.description}: other rules triggered\n{details}"


@pytest.mark.nginx
@pytest.mark.parametrize("spec", FIXTURES, ids=[s.id for s in FIXTURES])
def test_nginx_t_agrees_with_the_linter(
    spec: FixtureSpec,
    materialized: Callable[[FixtureSpec], Path],
    nginx_t: Callable[[Path], NginxTest],
    installed_nginx_version: NginxVersion,
) -> None:
    conf = materialized(spec)
    report = lint_config(conf, nginx_version=str(installed_nginx_version))
    verdict = nginx_t(conf)
    refusing = [f"{f.rule_id} {f.file.name}:{f.line} {f.message}" for f in report.findings if f.refuses_start]
    assert report.refuses_start == (not verdict.ok), (
        f"nginx -t {'accepted' if verdict.ok else 'refused'} the config:\n{verdict.output}\n"
        f"linkdoctor says it refuses to start: {refusing}"
    )
    if spec.nginx_t is not None:
        assert verdict.ok == (spec.nginx_t == "ok"), verdict.output


def test_every_rule_has_trigger_and_clean_fixtures() -> None:
    for rule in RULES:
        kinds = {s.expect for s in FIXTURES if s.rule == rule.id}
        assert kinds == {"trigger", "clean"}, f"{rule.id} needs trigger and clean fixtures, has {kinds}"


def test_the_readme_example_has_no_findings(materialized: Callable[[FixtureSpec], Path]) -> None:
    spec = next(s for s in FIXTURES if s.name == "readme_example")
    report = lint_config(materialized(spec))
    assert report.findings == ()
