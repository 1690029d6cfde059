"""A resource's result becomes one result per link to it: the link's URL and its referrers in page order."""

from __future__ import annotations

from dataclasses import fields, replace

from linkdoctor.classify.codes import make
from linkdoctor.engine.crawl import _in_page_order
from linkdoctor.models import (
    Category,
    CheckResult,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Severity,
)

FULL = CheckResult(
    "https://h/a",
    Category.BROKEN,
    status=400,
    reason="Bad Request",
    precise_status=496,
    final_url="https://h/b",
    redirects=(Redirect("https://h/a", 301),),
    elapsed_ms=12.5,
    error=ErrorKind.TLS,
    error_message="no certificate",
    diagnosis=make("tls.client-cert-required", "detail"),
    referrers=(Referrer("https://h/", 3, "A"),),
    findings=(Finding("tls.client-cert-missing", Severity.ERROR, "client", "summary"),),
)


def test_for_link_is_replace_of_url_and_referrers() -> None:
    referrers = (Referrer("https://h/x", 1, "x"),)
    assert FULL.for_link("https://h/a#top", referrers) == replace(
        FULL, url="https://h/a#top", referrers=referrers
    )


def test_for_link_knows_every_field() -> None:
    # A new field must be passed on by CheckResult.for_link too; this list is the reminder.
    assert [f.name for f in fields(CheckResult)] == [
        "url", "category", "status", "reason", "precise_status", "final_url", "redirects", "elapsed_ms",
        "error", "error_message", "diagnosis", "referrers", "findings", "referrer_count",
    ]  # fmt: skip


def test_referrers_are_unique_and_in_page_line_text_order() -> None:
    found = [Referrer("b", 2, "x"), Referrer("a", 9, "y"), Referrer("b", 2, "x"), Referrer("a", 1, "z")]
    assert _in_page_order(found) == (Referrer("a", 1, "z"), Referrer("a", 9, "y"), Referrer("b", 2, "x"))


def test_a_line_less_referrer_sorts_first_on_its_page() -> None:
    found = [
        Referrer("p", 4, "t"),
        Referrer("p", None, "sitemap"),
        Referrer("o", 1, "t"),
        Referrer("p", None, "sitemap"),
    ]
    assert _in_page_order(found) == (
        Referrer("o", 1, "t"),
        Referrer("p", None, "sitemap"),
        Referrer("p", 4, "t"),
    )


def test_a_line_less_referrer_comes_before_line_zero() -> None:
    found = [Referrer("p", 0, "a"), Referrer("p", None, "b"), Referrer("p", 0, "a")]
    assert _in_page_order(found) == (Referrer("p", None, "b"), Referrer("p", 0, "a"))
