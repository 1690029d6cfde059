"""Specs for the rule registry (linkdoctor.nginx.rules) and rule choices and messages that the fixture
folders do not pin down: selection, version-dependent wording, the system trust store, secrets."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import crossplane
import pytest
from click.testing import CliRunner
from tests.nginx.materials import PASSPHRASE, FixtureSpec, all_fixtures, key_pem, make_ca, pem

from linkdoctor.cli import cli
from linkdoctor.errors import ConfigError
from linkdoctor.models import Severity
from linkdoctor.nginx import lint_config, select_rules
from linkdoctor.nginx.context import default_trust_store_paths
from linkdoctor.nginx.formats import report_to_json
from linkdoctor.nginx.parse import NginxParseError
from linkdoctor.nginx.rules import RULES, get_rule

FIXTURES = {s.id: s for s in all_fixtures()}


def fixture(fixture_id: str) -> FixtureSpec:
    return FIXTURES[fixture_id]


def test_rule_ids_run_from_ldn001_to_ldn014_in_order() -> None:
    assert [r.id for r in RULES] == [f"LDN{n:03d}" for n in range(1, 15)]


def test_each_rule_lives_in_its_own_module() -> None:
    for rule in RULES:
        module = importlib.import_module(rule.check.__module__)
        assert module.__name__.split(".")[-1].startswith(rule.id.lower() + "_")
        assert module.RULE is rule


def test_get_rule_finds_a_rule_by_id_in_any_case() -> None:
    assert get_rule("ldn004") is RULES[3]


def test_get_rule_raises_key_error_for_an_unknown_id() -> None:
    with pytest.raises(KeyError):
        get_rule("LDN999")


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_is_documented(rule: object) -> None:
    assert rule in RULES
    r = get_rule(str(getattr(rule, "id", "")))
    assert r.title and r.explanation and r.fix and r.tags
    assert isinstance(r.severity, Severity)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_snippet_is_valid_nginx_syntax(rule: object, tmp_path: Path) -> None:
    r = get_rule(str(getattr(rule, "id", "")))
    conf = tmp_path / "snippet.conf"
    conf.write_text(r.snippet + "\n", encoding="utf-8")
    payload = crossplane.parse(str(conf), check_ctx=False, check_args=True, single=True)
    assert payload["errors"] == []


def test_select_by_tag_and_ignore_by_id() -> None:
    assert [r.id for r in select_rules(("proxy",))] == ["LDN012"]
    assert "LDN007" not in [r.id for r in select_rules((), ("LDN007",))]
    assert [r.id for r in select_rules(("LDN00",), ("ssl",))] == ["LDN007"]


def test_an_unknown_selector_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown nginx rule or tag 'LDN999'"):
        select_rules(("LDN999",))


def test_ignored_rules_do_not_report(materialized: Callable[[FixtureSpec], Path]) -> None:
    conf = materialized(fixture("LDN007/trigger_error_page_200"))
    assert lint_config(conf, ignore=("LDN007",)).findings == ()


def test_shared_address_on_a_vulnerable_nginx_is_an_error_naming_the_cve(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    conf = materialized(fixture("LDN009/trigger_shared_address_vulnerable_version"))
    (finding,) = lint_config(conf, nginx_version="1.26.2").findings
    assert finding.severity is Severity.ERROR
    assert "nginx 1.26.2 is affected by CVE-2025-23419" in finding.message
    assert "421 Misdirected Request" in finding.message


def test_shared_address_on_a_fixed_nginx_warns_about_421_only(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    conf = materialized(fixture("LDN009/trigger_shared_address_vulnerable_version"))
    (finding,) = lint_config(conf, nginx_version="1.26.3").findings
    assert finding.severity is Severity.WARNING
    assert "CVE" not in finding.message
    assert not any("Upgrade" in step for step in finding.fix)


def test_shared_address_with_unknown_version_mentions_the_cve_conditionally(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    conf = materialized(fixture("LDN009/trigger_shared_address_vulnerable_version"))
    (finding,) = lint_config(conf).findings
    assert finding.severity is Severity.WARNING
    assert "older than 1.26.3 (stable) or 1.27.4 (mainline), CVE-2025-23419" in finding.message


def test_trusted_certificate_alone_with_unknown_version_is_a_warning(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    conf = materialized(fixture("LDN001/trigger_trusted_only_before_1_27_2"))
    (finding,) = lint_config(conf).findings
    assert (finding.rule_id, finding.severity, finding.refuses_start) == ("LDN001", Severity.WARNING, False)


def test_the_system_trust_store_as_client_ca_is_a_public_bundle(
    materialized: Callable[[FixtureSpec], Path],
) -> None:
    conf = materialized(fixture("LDN003/clean_private_ca"))
    store = conf.parent / "tls" / "client-ca.pem"
    findings = lint_config(conf, trust_store_paths=[store]).findings
    assert [(f.rule_id, "is the system trust store" in f.message) for f in findings] == [("LDN003", True)]


@pytest.mark.parametrize(
    "name", ["LDN010/clean_encrypted_key_with_passphrase", "LDN010/trigger_encrypted_key_wrong_passphrase"]
)
def test_passphrases_never_appear_in_a_report(name: str, materialized: Callable[[FixtureSpec], Path]) -> None:
    text = json.dumps(report_to_json(lint_config(materialized(fixture(name)))))
    assert PASSPHRASE not in text
    assert "not this one" not in text


def test_explain_shows_a_lint_rule() -> None:
    result = CliRunner().invoke(cli, ["explain", "LDN004"])
    assert result.exit_code == 0, result.output
    assert "ssl_verify_depth" in result.output


def test_the_real_system_trust_store_is_recognised(materialized: Callable[[FixtureSpec], Path]) -> None:
    store = next((p for p in default_trust_store_paths() if p.is_file()), None)
    assert store is not None, "no system CA bundle found: install the ca-certificates package"
    conf = materialized(fixture("LDN003/clean_private_ca"))
    text = conf.read_text(encoding="utf-8").replace("tls/client-ca.pem", str(store))
    conf.write_text(text, encoding="utf-8")
    findings = lint_config(conf).findings
    assert [f.rule_id for f in findings] == ["LDN003"]
    assert f"{store} is the system trust store" in findings[0].message


def test_upstream_verify_depths_take_only_numbers_and_flags_are_refused_by_the_parser(tmp_path: Path) -> None:
    def conf(verify: str) -> Path:
        path = tmp_path / "nginx.conf"
        path.write_text(
            "events {}\n"
            "http {\n"
            "    server {\n"
            "        listen 127.0.0.1:8080;\n"
            "        location / {\n"
            "            proxy_pass https://127.0.0.1:9443;\n"
            f"            proxy_ssl_verify {verify};\n"
            "            proxy_ssl_verify_depth 2x;\n"
            "            proxy_ssl_trusted_certificate ca.pem;\n"
            "        }\n"
            "    }\n"
            "}\n",
            encoding="utf-8",
        )
        return path

    (tmp_path / "ca.pem").write_text("", encoding="utf-8")
    (found,) = lint_config(conf("on"), select=("LDN014",)).findings
    assert (found.line, found.refuses_start) == (8, True)
    assert '"proxy_ssl_verify_depth 2x": it must be a whole number' in found.message
    with pytest.raises(NginxParseError, match=r'nginx.conf:7: invalid value "true" in "proxy_ssl_verify"'):
        lint_config(conf("true"))


def test_a_ca_file_many_server_blocks_name_is_judged_once_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hostile (or generated) config of many blocks sharing one big CA file cost blocks × certificates:
    # 300 blocks naming 800 CAs took 7 to 12 s. Each file's verdicts are now reached once.
    now = datetime.now(UTC)
    start, end = now - timedelta(days=1), now + timedelta(days=365)
    roots = [make_ca(f"Root {n}", org=f"Org {n}", not_before=start, not_after=end) for n in range(25)]
    root = make_ca("Private root", not_before=start, not_after=end)
    private = [root, *(make_ca(f"Int {n}", issuer=root, not_before=start, not_after=end) for n in range(5))]
    (tmp_path / "public.pem").write_bytes(pem(*(ca.cert for ca in roots)))
    (tmp_path / "private.pem").write_bytes(pem(*(ca.cert for ca in private)))
    (tmp_path / "server.pem").write_bytes(pem(roots[0].cert))
    (tmp_path / "server.key").write_bytes(key_pem(roots[0].key))
    blocks = "".join(
        f"server {{ listen 127.0.0.1:{20000 + n} ssl; server_name s{n}.test;"
        f" ssl_certificate {tmp_path}/server.pem; ssl_certificate_key {tmp_path}/server.key;"
        f" ssl_client_certificate {tmp_path}/{'public' if n % 2 else 'private'}.pem; ssl_verify_client on; }}\n"
        for n in range(40)
    )
    config = tmp_path / "nginx.conf"
    config.write_text(f"events {{}}\nhttp {{\n{blocks}}}\n", encoding="utf-8")
    calls: dict[str, int] = {"bundle": 0, "issuers": 0, "levels": 0}

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            calls[name] += 1
            return function(*args)

        return call

    shared = importlib.import_module("linkdoctor.nginx.rules._shared")
    ldn002 = importlib.import_module("linkdoctor.nginx.rules.ldn002_client_ca_file")
    ldn004 = importlib.import_module("linkdoctor.nginx.rules.ldn004_verify_depth")
    monkeypatch.setattr(shared, "_public_bundle_reason", counted("bundle", shared._public_bundle_reason))
    monkeypatch.setattr(ldn002, "missing_issuers", counted("issuers", ldn002.missing_issuers))
    monkeypatch.setattr(ldn004, "intermediate_levels", counted("levels", ldn004.intermediate_levels))

    report = lint_config(config, trust_store_paths=())
    assert sum(1 for f in report.findings if f.rule_id == "LDN003") == 20  # each public block still told
    # Two files judged; issuers looked up in the private one; depths for its CAs and for none (a public
    # bundle's are left to LDN003).
    assert calls == {"bundle": 2, "issuers": 1, "levels": 2}
