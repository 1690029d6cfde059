"""``linkdoctor check --diagnose``: the doctor's findings attached to the failing links in the JSON report."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from tests.integration.doctor.conftest import ClientCerts, DoctorSite
from tests.support.pki import PKI

from linkdoctor.cli import cli
from linkdoctor.report.json import schema

pytestmark = pytest.mark.nginx


def check_json(pki: PKI, *args: str) -> tuple[int, dict[str, Any]]:
    base = ["check", "--no-progress", "--retries", "0", "--no-recursive", "--ignore-robots"]
    result = CliRunner().invoke(cli, [*base, "--cacert", str(pki.root.cert), "--format", "json-v1", *args])
    document: dict[str, Any] = json.loads(result.stdout)
    return result.exit_code, document


def by_url(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["url"]: r for r in document["results"]}


def test_failing_links_carry_the_doctors_findings(
    doctor_pki: PKI, doctor_site: DoctorSite, certs: ClientCerts
) -> None:
    failing = [doctor_site.url("on"), doctor_site.url("on", "/admin/")]
    cert = ["--cert", str(certs.expired.cert), "--key", str(certs.expired.key)]
    code, document = check_json(doctor_pki, *failing, "--diagnose", *cert)
    assert code == 2
    results = by_url(document)
    for url in failing:
        findings = results[url]["findings"]
        assert findings[0]["code"] == "tls.client-cert-expired"
        assert findings[0]["actor"] == "client"
        assert findings[0]["fix"]
    assert results[failing[0]]["findings"] == results[failing[1]]["findings"]


def test_the_json_report_with_findings_validates_against_its_schema(
    doctor_pki: PKI, doctor_site: DoctorSite
) -> None:
    _, document = check_json(doctor_pki, doctor_site.url("on"), doctor_site.url("nochain"), "--diagnose")
    jsonschema.validate(document, schema())
    results = by_url(document)
    assert results[doctor_site.url("on")]["findings"][0]["code"] == "tls.client-cert-required"
    assert results[doctor_site.url("nochain")]["findings"][0]["code"] == "tls.server-cert-incomplete-chain"


def test_links_that_work_get_no_findings(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    _, document = check_json(doctor_pki, doctor_site.url("plain"), doctor_site.url("on"), "--diagnose")
    assert by_url(document)[doctor_site.url("plain")]["findings"] == []


def test_without_the_flag_no_findings_are_attached(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    _, document = check_json(doctor_pki, doctor_site.url("on"))
    assert by_url(document)[doctor_site.url("on")]["findings"] == []


def test_streamed_json_lines_carry_the_findings_too(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    """With ``--format jsonl`` a TLS failure's line waits for the doctor; the other lines stream as found."""
    base = ["check", "--no-progress", "--retries", "0", "--no-recursive", "--ignore-robots", "--diagnose"]
    urls = [doctor_site.url("plain"), doctor_site.url("on"), doctor_site.url("nochain")]
    result = CliRunner().invoke(
        cli, [*base, "--cacert", str(doctor_pki.root.cert), "--format", "jsonl", *urls]
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert sorted(line["url"] for line in lines) == sorted(urls)  # each link once
    by = {line["url"]: line for line in lines}
    assert by[doctor_site.url("plain")]["findings"] == []
    assert by[doctor_site.url("on")]["findings"][0]["code"] == "tls.client-cert-required"
    assert by[doctor_site.url("nochain")]["findings"][0]["code"] == "tls.server-cert-incomplete-chain"
    assert lines[0]["url"] == doctor_site.url("plain")  # it did not wait for the doctor


def test_the_library_run_check_attaches_the_findings_too(doctor_pki: PKI, doctor_site: DoctorSite) -> None:
    """``linkdoctor.run_check`` honours ``CheckConfig.diagnose`` as the CLI does (the engine alone does not)."""
    import linkdoctor

    inputs = linkdoctor.collect_inputs([doctor_site.url("plain"), doctor_site.url("on")])
    seen: list[linkdoctor.CheckResult] = []
    config = linkdoctor.CheckConfig(
        diagnose=True, retries=0, recursive=False, respect_robots=False, cacert=doctor_pki.root.cert
    )
    report = linkdoctor.run_check(config, inputs, on_result=seen.append)
    results = {r.url: r for r in report.results}
    assert results[doctor_site.url("on")].findings[0].code == "tls.client-cert-required"
    assert results[doctor_site.url("plain")].findings == ()
    streamed = {r.url: r for r in seen}
    assert streamed[doctor_site.url("on")].findings == results[doctor_site.url("on")].findings
