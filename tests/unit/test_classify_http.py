"""Response classification: precise status behind the wire status, categories and diagnoses."""

from __future__ import annotations

from linkdoctor.classify.http import classify_response
from linkdoctor.classify.nginx_pages import looks_like_nginx, precise_nginx_status
from linkdoctor.models import Category

NGINX_496 = b"""<html>
<head><title>400 No required SSL certificate was sent</title></head>
<body><center><h1>400 Bad Request</h1></center><center>No required SSL certificate was sent</center>
<hr><center>nginx/1.22.1</center></body></html>"""


def test_nginx_496_page_behind_wire_400() -> None:
    assert precise_nginx_status(400, NGINX_496) == 496
    verdict = classify_response(400, {}, NGINX_496, redirected=False)
    assert verdict.precise_status == 496
    assert verdict.category is Category.BROKEN
    assert verdict.diagnosis is not None and verdict.diagnosis.code == "tls.client-cert-required"
    assert "--cert" in verdict.diagnosis.summary


def test_other_special_pages() -> None:
    assert precise_nginx_status(400, b"<title>400 The SSL certificate error</title>") == 495
    assert (
        precise_nginx_status(400, b"<title>400 The plain HTTP request was sent to HTTPS port</title>") == 497
    )
    assert precise_nginx_status(400, b"<title>400 Request Header Or Cookie Too Large</title>") == 494


def test_special_page_text_only_counts_on_a_400() -> None:
    assert precise_nginx_status(200, NGINX_496) is None


def test_real_496_status_line() -> None:
    verdict = classify_response(496, {}, b"", redirected=False)
    assert verdict.precise_status == 496
    assert verdict.diagnosis is not None and verdict.diagnosis.code == "tls.client-cert-required"


def test_accept_matches_the_precise_status() -> None:
    verdict = classify_response(400, {}, NGINX_496, redirected=False, accept=frozenset({496}))
    assert verdict.category is Category.OK


def test_basic_codes() -> None:
    expected = {
        404: "http.not-found",
        410: "http.gone",
        500: "http.server-error",
        502: "http.bad-gateway",
        503: "http.unavailable",
    }
    for status, code in expected.items():
        verdict = classify_response(status, {}, b"", redirected=False)
        assert verdict.category is Category.BROKEN
        assert verdict.diagnosis is not None and verdict.diagnosis.code == code


def test_bot_protection_is_unverified_not_broken() -> None:
    assert classify_response(999, {}, b"", redirected=False).category is Category.UNVERIFIED
    verdict = classify_response(403, {"cf-mitigated": "challenge"}, b"", redirected=False)
    assert verdict.category is Category.UNVERIFIED
    assert verdict.diagnosis is not None and verdict.diagnosis.code == "http.bot-protection"


def test_rate_limit_that_outlasts_retries_is_unverified() -> None:
    assert classify_response(429, {}, b"", redirected=False).category is Category.UNVERIFIED


def test_success_after_redirects_is_redirected() -> None:
    assert classify_response(200, {}, b"", redirected=True).category is Category.REDIRECTED


def test_nginx_detection() -> None:
    assert looks_like_nginx("nginx/1.22.1")
    assert looks_like_nginx(None, NGINX_496)
    assert not looks_like_nginx("Apache")
