"""Specs for the diagnosis-code catalogue (linkdoctor.classify.codes)."""

from __future__ import annotations

import re
from types import MappingProxyType

import pytest

from linkdoctor.classify import codes
from linkdoctor.models import Diagnosis

REQUIRED_CODES = (
    "tls.client-cert-required",
    "tls.client-cert-rejected",
    "tls.client-cert-expired",
    "tls.client-cert-not-yet-valid",
    "tls.client-cert-untrusted-ca",
    "tls.client-cert-wrong-usage",
    "tls.client-cert-key-mismatch",
    "http.plain-http-to-https-port",
    "http.request-header-too-large",
    "http.connection-closed-no-response",
    "tls.server-cert-expired",
    "tls.server-cert-not-yet-valid",
    "tls.server-cert-hostname-mismatch",
    "tls.server-cert-self-signed",
    "tls.server-cert-untrusted",
    "tls.server-cert-incomplete-chain",
    "tls.handshake-failed",
    "http.not-found",
    "http.soft-404",
    "file.anchor-missing",
    "http.gone",
    "http.server-error",
    "http.bad-gateway",
    "http.unavailable",
    "http.gateway-timeout",
    "http.rate-limited",
    "http.bot-protection",
    "http.forbidden",
    "http.unauthorized",
    "http.client-error",
    "http.method-not-allowed",
    "http.redirect-loop",
    "http.too-many-redirects",
    "http.fragment-missing",
    "http.protocol-error",
    "net.dns",
    "net.refused",
    "net.timeout",
    "net.reset",
    "net.connection-closed",
    "url.invalid",
    "url.too-long",
    "url.unsupported-scheme",
    "url.file-on-web",
    "file.not-found",
    "robots.disallowed",
    "crawl.trap-suspected",
    "crawl.query-cap",
    "crawl.path-too-deep",
    "crawl.link-cap",
    "crawl.url-budget",
    "crawl.time-budget",
    "crawl.interrupted",
    "crawl.page-budget",
    "http.body-truncated",
    "filter.excluded",
)


@pytest.mark.parametrize("code", REQUIRED_CODES)
def test_every_required_code_has_a_complete_entry(code: str) -> None:
    entry = codes.info(code)
    assert entry.code == code
    assert entry.title.strip()
    assert entry.summary.strip()
    assert entry.explanation.strip()
    assert entry.fix
    assert all(step.strip() for step in entry.fix)
    assert entry.actor in codes.ACTORS


DOCTOR_ONLY_CODES = (
    "tls.client-auth-not-enforced",
    "tls.client-cert-chain-incomplete",
    "tls.client-cert-chain-too-deep",
    "tls.client-cert-never-requested",
)


def test_catalogue_holds_exactly_the_documented_codes() -> None:
    assert set(codes.CODES) == set(REQUIRED_CODES) | set(DOCTOR_ONLY_CODES)


@pytest.mark.parametrize("code", DOCTOR_ONLY_CODES)
def test_explain_knows_the_doctors_own_codes(code: str) -> None:
    assert codes.info(code).fix


def test_codes_are_lowercase_dotted_identifiers() -> None:
    pattern = re.compile(r"^[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*$")
    assert [code for code in codes.CODES if not pattern.match(code)] == []


def test_summaries_are_single_lines() -> None:
    assert [e.code for e in codes.CODES.values() if "\n" in e.summary] == []


def test_catalogue_is_immutable() -> None:
    assert isinstance(codes.CODES, MappingProxyType)
    with pytest.raises(TypeError):
        codes.CODES["x.y"] = codes.CODES["http.gone"]  # type: ignore[index]


def test_client_cert_required_fix_names_the_options_the_config_and_a_curl_command() -> None:
    fix = " ".join(codes.info("tls.client-cert-required").fix)
    assert "--cert/--key" in fix
    assert "[[tls.client]]" in fix
    assert "curl --cert client.pem --key client.key URL" in fix


def test_client_cert_required_explains_nginx_sends_a_400_page_instead_of_496() -> None:
    entry = codes.info("tls.client-cert-required")
    assert "400 No required SSL certificate was sent" in entry.explanation
    assert entry.related_status == (400, 496)


@pytest.mark.parametrize(
    ("code", "page"),
    [
        ("tls.client-cert-rejected", "400 The SSL certificate error"),
        ("http.plain-http-to-https-port", "400 The plain HTTP request was sent to HTTPS port"),
        ("http.request-header-too-large", "400 Request Header Or Cookie Too Large"),
    ],
)
def test_nginx_hidden_400_codes_quote_the_exact_error_page(code: str, page: str) -> None:
    assert page in codes.info(code).explanation


def test_connection_closed_no_response_mentions_nginx_return_444() -> None:
    assert "return 444" in codes.info("http.connection-closed-no-response").explanation


def test_make_builds_a_diagnosis_with_the_catalogue_summary_and_fix() -> None:
    diagnosis = codes.make("http.not-found")
    entry = codes.info("http.not-found")
    assert diagnosis == Diagnosis(code="http.not-found", summary=entry.summary, fix=entry.fix)


def test_make_appends_the_detail_after_a_colon() -> None:
    diagnosis = codes.make("tls.client-cert-expired", "notAfter 2024-01-01")
    assert diagnosis.summary == codes.info("tls.client-cert-expired").summary + ": notAfter 2024-01-01"


def test_info_of_an_unknown_code_raises_key_error_naming_it_and_near_matches() -> None:
    with pytest.raises(KeyError, match=r"unknown diagnosis code 'http\.not-fund'.*http\.not-found"):
        codes.info("http.not-fund")


def test_make_of_an_unknown_code_raises_key_error() -> None:
    with pytest.raises(KeyError, match=r"no\.such-code"):
        codes.make("no.such-code")


def test_related_statuses_are_valid_status_numbers() -> None:
    bad = [(e.code, s) for e in codes.CODES.values() for s in e.related_status if not 100 <= s <= 999]
    assert bad == []
