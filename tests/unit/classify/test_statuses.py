"""Specs for the HTTP status registry (linkdoctor.classify.statuses)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from linkdoctor.classify import (
    statuses_iana_4xx,
    statuses_iana_5xx,
    statuses_iana_ok,
    statuses_nginx,
    statuses_vendor,
)
from linkdoctor.classify.statuses import STATUSES, Origin, StatusInfo, explain_status, status_class

IANA_CODES = (
    *range(100, 104),
    *range(200, 209),
    226,
    *range(300, 309),
    *range(400, 419),
    *range(421, 427),
    428,
    429,
    431,
    451,
    *range(500, 509),
    510,
    511,
)

VENDOR_CODES = {
    444: Origin.NGINX,
    494: Origin.NGINX,
    495: Origin.NGINX,
    496: Origin.NGINX,
    497: Origin.NGINX,
    499: Origin.NGINX,
    520: Origin.CLOUDFLARE,
    521: Origin.CLOUDFLARE,
    522: Origin.CLOUDFLARE,
    523: Origin.CLOUDFLARE,
    524: Origin.CLOUDFLARE,
    525: Origin.CLOUDFLARE,
    526: Origin.CLOUDFLARE,
    527: Origin.CLOUDFLARE,
    530: Origin.CLOUDFLARE,
    440: Origin.IIS,
    449: Origin.IIS,
    999: Origin.LINKEDIN,
    460: Origin.AWS,
    463: Origin.AWS,
    561: Origin.AWS,
    509: Origin.APACHE,
    598: Origin.PROXY,
    599: Origin.PROXY,
    419: Origin.LARAVEL,
    420: Origin.TWITTER,
    430: Origin.SHOPIFY,
    450: Origin.MICROSOFT,
    498: Origin.ESRI,
    529: Origin.QUALYS,
}

NGINX_PAGES = {
    494: "400 Request Header Or Cookie Too Large",
    495: "400 The SSL certificate error",
    496: "400 No required SSL certificate was sent",
    497: "400 The plain HTTP request was sent to HTTPS port",
}


def _text(info: StatusInfo) -> str:
    return " ".join((info.meaning, *info.causes, *info.client_fix, *info.operator_fix, info.example))


@pytest.mark.parametrize("code", IANA_CODES)
def test_every_iana_registered_code_is_listed_as_standard(code: int) -> None:
    info = STATUSES[code]
    assert info.code == code
    assert info.origin is Origin.STANDARD
    assert info.name.strip()
    assert info.meaning.strip()
    assert info.reference.strip()


@pytest.mark.parametrize(("code", "origin"), sorted(VENDOR_CODES.items()))
def test_vendor_codes_are_listed_with_their_origin(code: int, origin: Origin) -> None:
    info = STATUSES[code]
    assert info.origin is origin
    assert info.meaning.strip()
    assert info.causes


@pytest.mark.parametrize("code", sorted(STATUSES))
def test_every_error_status_says_what_the_client_or_operator_can_do(code: int) -> None:
    info = STATUSES[code]
    if code >= 400:
        assert info.client_fix or info.operator_fix
    assert all(step.strip() for step in (*info.causes, *info.client_fix, *info.operator_fix))


def test_no_code_is_defined_twice_across_the_data_modules() -> None:
    modules = (statuses_iana_ok, statuses_iana_4xx, statuses_iana_5xx, statuses_nginx, statuses_vendor)
    codes = [entry.code for module in modules for entry in module.ENTRIES]
    assert len(codes) == len(set(codes)) == len(STATUSES)


def test_registry_is_immutable_and_sorted() -> None:
    assert isinstance(STATUSES, MappingProxyType)
    assert list(STATUSES) == sorted(STATUSES)


@pytest.mark.parametrize(("code", "page"), sorted(NGINX_PAGES.items()))
def test_nginx_hidden_codes_say_they_travel_as_a_400_with_their_page(code: int, page: str) -> None:
    meaning = STATUSES[code].meaning
    assert "400 Bad Request" in meaning
    assert page in meaning


@pytest.mark.parametrize("code", [495, 496])
def test_nginx_client_cert_codes_explain_mutual_tls(code: int) -> None:
    info = STATUSES[code]
    text = _text(info)
    assert "Mutual TLS" in info.meaning
    assert f"error_page {code} ={code}" in info.meaning
    assert "empty reason phrase" in info.meaning
    for directive in ("ssl_client_certificate", "ssl_verify_client", "ssl_verify_depth"):
        assert directive in info.example
    assert "curl --cert client.pem --key client.key https://" in text
    for check in ("validity dates", "trusted CA", "clientAuth", "presence"):
        assert check in info.meaning


def test_496_says_no_certificate_was_sent_and_how_to_configure_one() -> None:
    info = STATUSES[496]
    assert "sent none" in info.meaning
    assert any("--cert/--key" in step and "[[tls.client]]" in step for step in info.client_fix)


def test_444_is_nginx_closing_the_connection_via_return_444() -> None:
    info = STATUSES[444]
    assert "closed the connection without sending any response" in info.meaning
    assert "return 444" in _text(info)


def test_525_is_the_cloudflare_to_origin_handshake() -> None:
    info = STATUSES[525]
    assert info.name == "SSL Handshake Failed"
    assert "handshake between Cloudflare and the origin" in info.meaning


def test_499_keeps_nginx_meaning_and_mentions_esri() -> None:
    meaning = STATUSES[499].meaning
    assert "client closed the connection" in meaning
    assert "Esri" in meaning


def test_451_mentions_the_iis_redirect_meaning() -> None:
    meaning = STATUSES[451].meaning
    assert "legal" in meaning
    assert "Redirect" in meaning
    assert "IIS" in meaning


def test_explain_status_returns_the_registry_entry() -> None:
    assert explain_status(404) is STATUSES[404]


@pytest.mark.parametrize("code", [104, 299, 399, 462, 469, 555, 600, 799])
def test_unlisted_codes_are_explained_by_class_never_as_unknown(code: int) -> None:
    assert code not in STATUSES
    info = explain_status(code)
    assert info.code == code
    assert info.origin is Origin.UNASSIGNED
    assert "unknown" not in _text(info).lower()
    assert "unknown" not in info.name.lower()
    assert info.client_fix
    assert info.operator_fix


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (150, "Informational"),
        (299, "Successful"),
        (350, "Redirection"),
        (462, "Client Error"),
        (555, "Server Error"),
    ],
)
def test_unlisted_standard_range_codes_name_their_class(code: int, fragment: str) -> None:
    assert fragment in explain_status(code).name


def test_codes_600_to_999_are_explained_as_non_standard() -> None:
    info = explain_status(600)
    assert info.name == "Non-standard status 600"
    assert "outside the standard classes" in info.meaning


@pytest.mark.parametrize("code", [-1, 0, 99, 1000, 40400])
def test_out_of_range_numbers_raise_value_error(code: int) -> None:
    with pytest.raises(ValueError, match="is not an HTTP status code"):
        explain_status(code)


def test_status_class_of_standard_and_non_standard_codes() -> None:
    assert [status_class(c) for c in (100, 204, 308, 404, 599, 600, 999)] == [1, 2, 3, 4, 5, 0, 0]
