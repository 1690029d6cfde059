"""Specs for ``linkdoctor explain`` (linkdoctor.cli.explain), run through the real click group."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner, Result

from linkdoctor.classify.codes import CODES
from linkdoctor.classify.statuses import STATUSES
from linkdoctor.cli import cli, main
from linkdoctor.nginx.rules import RULES, get_rule


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["explain", *args])


def flat(text: str) -> str:
    """The output with line wrapping and indentation collapsed, so that phrases can be searched."""
    return " ".join(text.split())


def ok_output(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return flat(result.stdout)


# --- statuses, console ---------------------------------------------------------------------------


def test_explain_496_shows_meaning_causes_and_fixes_for_both_sides() -> None:
    out = ok_output("496")
    assert "496 SSL Certificate Required" in out
    assert "Origin: nginx" in out
    assert "400 No required SSL certificate was sent" in out
    assert "Causes • No client certificate is configured" in out
    assert "Fix for the client • Configure a client certificate with --cert/--key or in [[tls.client]]" in out
    assert "curl --cert client.pem --key client.key https://host/" in out
    assert "Fix for the operator • If the page should be public" in out


def test_explain_496_shows_the_mutual_tls_server_block_example() -> None:
    out = ok_output("496")
    assert "Example server {" in out
    for directive in ("ssl_client_certificate", "ssl_verify_client on;", "ssl_verify_depth 2;"):
        assert directive in out


def test_explain_495_shows_certificate_error_causes_and_fixes() -> None:
    out = ok_output("495")
    assert "495 SSL Certificate Error" in out
    assert "400 The SSL certificate error" in out
    assert "The certificate has expired or is not valid yet." in out
    assert "clientAuth" in out
    assert "Fix for the operator • Read the nginx error log" in out


def test_explain_444_says_nginx_closed_the_connection() -> None:
    out = ok_output("444")
    assert "444 No Response" in out
    assert "closed the connection without sending any response" in out
    assert "Causes • A catch-all server block drops requests" in out
    assert "Fix for the operator • Find the 'return 444' that matched" in out
    assert "return 444;" in out


def test_explain_525_says_the_cloudflare_origin_handshake_failed() -> None:
    out = ok_output("525")
    assert "525 SSL Handshake Failed" in out
    assert "Origin: cloudflare" in out
    assert "TLS handshake between Cloudflare and the origin server failed" in out
    assert "Causes • The origin has no TLS on port 443" in out
    assert "openssl s_client -connect ORIGIN_IP:443" in out


def test_explain_status_lists_related_diagnosis_codes() -> None:
    assert "Related diagnosis codes tls.client-cert-required" in ok_output("496")


def test_explain_unassigned_status_explains_its_class() -> None:
    out = ok_output("299")
    assert "299 Unassigned 2xx status (Successful)" in out
    assert "unknown" not in out.lower()


def test_explain_status_without_operator_fix_says_nothing_to_do() -> None:
    assert "Fix for the operator • Nothing to do." in ok_output("101")


# --- diagnosis codes and rules, console -----------------------------------------------------------


def test_explain_diagnosis_code_shows_summary_explanation_and_fix() -> None:
    out = ok_output("tls.client-cert-required")
    entry = CODES["tls.client-cert-required"]
    assert f"tls.client-cert-required — {entry.title}" in out
    assert flat(entry.summary) in out
    assert flat(entry.explanation) in out
    assert "curl --cert client.pem --key client.key URL" in out
    assert "[[tls.client]]" in out  # printed literally, not swallowed as console markup
    assert "Related statuses • 400 Bad Request • 496 SSL Certificate Required" in out


def test_explain_diagnosis_code_is_case_insensitive() -> None:
    assert "http.not-found" in ok_output("HTTP.Not-Found")


def test_explain_nginx_rule_uses_the_rules_module() -> None:
    rule = get_rule("LDN001")
    out = ok_output("ldn001")
    assert f"LDN001 — {rule.title}" in out
    assert "Severity: error" in out
    assert f"Fix • {flat(rule.fix[0])}" in out
    assert f"Example {flat(rule.snippet)}" in out


def test_explain_unknown_nginx_rule_exits_3() -> None:
    result = run("LDN999")
    assert result.exit_code == 3
    assert "unknown nginx lint rule 'LDN999'" in result.output


@pytest.mark.parametrize("rule_id", [rule.id for rule in RULES])
def test_explain_knows_every_nginx_rule(rule_id: str) -> None:
    assert f"{rule_id} — {get_rule(rule_id).title}" in ok_output(rule_id)


# --- JSON ------------------------------------------------------------------------------------------


def test_explain_status_json_has_the_stable_fields() -> None:
    document = json.loads(run("496", "--format", "json").stdout)
    assert set(document) == {
        "kind",
        "code",
        "name",
        "origin",
        "reference",
        "meaning",
        "causes",
        "client_fix",
        "operator_fix",
        "example",
        "related_codes",
    }
    assert document["kind"] == "status"
    assert document["code"] == 496
    assert document["origin"] == "nginx"
    assert document["causes"]
    # no certificate sent; or none asked for, which only `diagnose` can tell from the handshake
    assert document["related_codes"] == ["tls.client-cert-required", "tls.client-cert-never-requested"]


def test_explain_diagnosis_json_has_the_stable_fields() -> None:
    document = json.loads(run("net.timeout", "--format", "json").stdout)
    assert document == {
        "kind": "diagnosis",
        "code": "net.timeout",
        "title": CODES["net.timeout"].title,
        "summary": CODES["net.timeout"].summary,
        "explanation": CODES["net.timeout"].explanation,
        "fix": list(CODES["net.timeout"].fix),
        "actor": "either",
        "related_status": list(CODES["net.timeout"].related_status),
    }


def test_explain_rule_json_has_the_rule_fields() -> None:
    document = json.loads(run("LDN001", "--format", "json").stdout)
    assert document["kind"] == "nginx-rule"
    assert document["id"] == "LDN001"
    assert document["fix"] == list(get_rule("LDN001").fix)


# --- --list ------------------------------------------------------------------------------------------


def test_list_shows_every_status_and_every_code() -> None:
    result = run("--list")
    assert result.exit_code == 0, result.output
    listed = {int(n) for n in re.findall(r"^\W*(\d{3}) ", result.stdout, flags=re.MULTILINE)}
    assert listed == set(STATUSES)
    assert [code for code in CODES if code not in result.stdout] == []


def test_list_json_lists_every_status_and_every_code() -> None:
    document = json.loads(run("--list", "--format", "json").stdout)
    assert [s["code"] for s in document["statuses"]] == sorted(STATUSES)
    assert {d["code"] for d in document["diagnoses"]} == set(CODES)


# --- errors -------------------------------------------------------------------------------------------


def test_unknown_code_exits_3_and_suggests_near_matches() -> None:
    result = run("http.not-fund")
    assert result.exit_code == 3
    assert "unknown status or diagnosis code 'http.not-fund'" in result.output
    assert "did you mean http.not-found" in result.output


def test_partial_code_suggests_codes_containing_it() -> None:
    result = run("client-cert")
    assert result.exit_code == 3
    assert "tls.client-cert-required" in result.output


@pytest.mark.parametrize("number", ["99", "1000", "0"])
def test_out_of_range_status_exits_3(number: str) -> None:
    result = run(number)
    assert result.exit_code == 3
    assert "is not an HTTP status code" in result.output


def test_no_topic_exits_3_with_usage_hint() -> None:
    result = run()
    assert result.exit_code == 3
    assert "nothing to explain" in result.output


def test_topic_and_list_together_exit_3() -> None:
    assert run("404", "--list").exit_code == 3


def test_console_script_entry_point_exits_3_for_unknown_codes() -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["explain", "no.such-code"])
    assert excinfo.value.code == 3


def test_console_script_entry_point_exits_0_on_success(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["explain", "404"])
    assert excinfo.value.code == 0
    assert "404 Not Found" in capsys.readouterr().out
