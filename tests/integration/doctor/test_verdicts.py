"""Every case the doctor must get right, against a real nginx: the leading finding, who must act, the fix,
and the console and JSON output of the whole verdict (golden files, JSON validated against the schema)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from tests.integration.doctor.conftest import CASES, Case, DoctorSite, VerdictCache
from tests.integration.doctor.golden import assert_golden, console_text, json_text, normalize

from linkdoctor.config import ExitCode
from linkdoctor.models import Severity
from linkdoctor.report.doctor_json import schema, verdict_to_dict

pytestmark = pytest.mark.nginx

_IDS = [case.name for case in CASES]


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_the_leading_finding_names_the_cause(case: Case, verdicts: VerdictCache) -> None:
    verdict = verdicts(case)
    if case.lead is None:
        assert verdict.findings == ()
        return
    lead = verdict.findings[0]
    assert (lead.code, lead.actor) == (case.lead, case.actor), verdict.headline


@pytest.mark.parametrize("case", [c for c in CASES if c.lead is not None], ids=lambda c: c.name)
def test_the_leading_finding_carries_the_fix(case: Case, verdicts: VerdictCache) -> None:
    fix = "\n".join(verdicts(case).findings[0].fix)
    assert case.fix in fix


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_exit_code_says_whether_something_must_be_fixed(case: Case, verdicts: VerdictCache) -> None:
    verdict = verdicts(case)
    errors = [f for f in verdict.findings if f.severity is Severity.ERROR]
    assert verdict.exit_code == (ExitCode.BROKEN if errors else ExitCode.OK)
    assert verdict.healthy is (not errors)


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_console_output_matches_its_golden_file(
    case: Case, verdicts: VerdictCache, doctor_site: DoctorSite
) -> None:
    verdict = normalize(verdicts(case), frozenset(doctor_site.ports.values()))
    assert_golden(f"{case.name}.txt", console_text(verdict))


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_json_output_matches_its_golden_file_and_the_schema(
    case: Case, verdicts: VerdictCache, doctor_site: DoctorSite
) -> None:
    verdict = verdicts(case)
    jsonschema.validate(verdict_to_dict(verdict), schema())
    normalized = normalize(verdict, frozenset(doctor_site.ports.values()))
    assert_golden(f"{case.name}.json", json_text(normalized))


def test_healthy_setup_says_so_briefly(verdicts: VerdictCache) -> None:
    verdict = verdicts(next(c for c in CASES if c.name == "healthy"))
    assert verdict.headline.startswith("Healthy: TLSv1.3")
    assert "client certificate accepted (required)" in verdict.headline
    assert "HTTP 200" in verdict.headline


def test_untrusted_ca_names_the_cas_the_server_accepts(verdicts: VerdictCache) -> None:
    lead = verdicts(next(c for c in CASES if c.name == "untrusted-ca")).findings[0]
    assert "CN=linkdoctor Test Root CA" in lead.summary
    assert "CN=Rogue CA" in dict(lead.evidence)["issuer"]
    assert "rogue.pem (a root CA the server does not accept)" in dict(lead.evidence)["issuer_certificate"]


def test_untrusted_ca_offers_the_operator_the_nginx_directive(verdicts: VerdictCache) -> None:
    fix = "\n".join(verdicts(next(c for c in CASES if c.name == "untrusted-ca")).findings[0].fix)
    assert "ssl_client_certificate" in fix


def test_missing_intermediate_gives_the_exact_command_to_complete_the_chain(verdicts: VerdictCache) -> None:
    lead = verdicts(next(c for c in CASES if c.name == "intermediate-missing")).findings[0]
    assert lead.fix[0] == (
        "Send the intermediate after the certificate: cat doctor-via.pem intermediate.pem > doctor-via-chain.pem"
    )
    assert "ssl_trusted_certificate" in "\n".join(lead.fix)


def test_chain_too_deep_shows_what_the_server_answered(verdicts: VerdictCache) -> None:
    lead = verdicts(next(c for c in CASES if c.name == "chain-too-deep")).findings[0]
    evidence = dict(lead.evidence)
    assert evidence["server_answer"] == "HTTP: nginx 495 page behind a wire 400"
    assert evidence["chain_sent"].count(" > ") == 2


def test_a_rejected_certificate_is_shown_with_the_servers_answer(verdicts: VerdictCache) -> None:
    lead = verdicts(next(c for c in CASES if c.name == "expired")).findings[0]
    assert dict(lead.evidence)["server_answer"] == "HTTP: nginx 495 page behind a wire 400"


def test_both_real_requests_are_reported_with_their_diagnosis(verdicts: VerdictCache) -> None:
    requests = verdicts(next(c for c in CASES if c.name == "expired")).requests
    shown = [(r.with_certificate, r.status, r.precise_status, r.diagnosis_code) for r in requests]
    assert shown == [
        (False, 400, 496, "tls.client-cert-required"),
        (True, 400, 495, "tls.client-cert-expired"),
    ]


def test_server_side_is_examined_with_chain_dates_and_names(verdicts: VerdictCache) -> None:
    server = verdicts(next(c for c in CASES if c.name == "healthy")).server
    assert server.tls_version == "TLSv1.3"
    assert server.cipher
    assert (server.chain_complete, server.hostname_matches, server.verify_code) == (True, True, 0)
    assert server.chain[0].sans == ("localhost", "127.0.0.1")
    assert server.chain[0].issuer == "CN=linkdoctor Test Root CA,O=linkdoctor tests"
    assert server.days_to_expiry is not None and server.days_to_expiry > 300


def test_the_verdict_ends_with_curl_and_openssl_command_lines(verdicts: VerdictCache) -> None:
    reproduce = verdicts(next(c for c in CASES if c.name == "expired")).reproduce
    assert [c.label for c in reproduce] == ["curl", "openssl s_client"]
    assert "--cert doctor-expired.pem --key doctor-expired.key" in reproduce[0].line
    assert "-cert doctor-expired.pem -key doctor-expired.key" in reproduce[1].line


def test_json_document_round_trips(verdicts: VerdictCache) -> None:
    document = json.loads(json_text(verdicts(CASES[0])))
    assert document["findings"][0]["code"] == "tls.client-cert-required"
    assert document["client_auth"]["mode"] == "required"
