"""A fixed, hand-built report that every format's golden file is rendered from.

It covers every category, a wire status with a different precise status (400→496), redirects, a
finding, a link found on two pages, a start URL without referrer, a remote referring page, a broken
link without a diagnosis, and texts that need escaping in every format. Referrers are URLs under
``https://docs.example.org/`` mapped onto ``tests/fixtures/report/site`` (the lines match its files).
No clocks: elapsed times are fixed.
"""

from __future__ import annotations

from pathlib import Path

from linkdoctor.classify.codes import make
from linkdoctor.engine.inputs import LocalSite
from linkdoctor.models import (
    Category,
    CheckResult,
    ErrorKind,
    Finding,
    Redirect,
    Referrer,
    Report,
    Severity,
    Summary,
)
from linkdoctor.report.context import RenderContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "report"
SITE = FIXTURES / "site"
GOLDEN = FIXTURES / "golden"
BASE = "https://docs.example.org/"
TOOL_VERSION = "0.0.0+golden"

INDEX = BASE
GUIDE = BASE + "docs/guide.md"
POST = BASE + "blog/post.html"
PARTNER = "https://partner.example.net/links.html"


def sample_results() -> tuple[CheckResult, ...]:
    return (
        CheckResult(
            "https://api.example.org/private",
            Category.BROKEN,
            status=400,
            reason="Bad Request",
            precise_status=496,
            final_url="https://api.example.org/private",
            elapsed_ms=48.0,
            error=ErrorKind.TLS,
            diagnosis=make("tls.client-cert-required", "nginx answered 400 with its 496 page"),
            referrers=(Referrer(GUIDE, 12, "private API"),),
            findings=(
                Finding(
                    "LDT001",
                    Severity.ERROR,
                    "client",
                    "No client certificate was configured for api.example.org",
                    evidence=(("host", "api.example.org"),),
                    fix=("Pass --cert and --key for api.example.org.",),
                ),
            ),
        ),
        CheckResult(INDEX, Category.OK, status=200, reason="OK", final_url=INDEX, elapsed_ms=12.5),
        CheckResult(
            POST,
            Category.OK,
            status=200,
            reason="OK",
            final_url=POST,
            elapsed_ms=3.0,
            referrers=(Referrer(INDEX, 5, "Blog"),),
        ),
        CheckResult(
            GUIDE + "#install",
            Category.BROKEN,
            status=200,
            reason="OK",
            final_url=GUIDE + "#install",
            elapsed_ms=2.0,
            diagnosis=make("http.fragment-missing", "no element has id 'install'"),
            referrers=(Referrer(INDEX, 7, "Install"), Referrer(POST, 3, "the install guide")),
        ),
        CheckResult(
            BASE + "old-page",
            Category.REDIRECTED,
            status=301,
            reason="Moved Permanently",
            final_url=BASE + "new-page",
            redirects=(Redirect(BASE + "old-page", 301), Redirect(BASE + "new-page", 200)),
            elapsed_ms=7.25,
            referrers=(Referrer(INDEX, 9, "Old page"),),
        ),
        CheckResult(
            "https://example.com/a|b<script>`x`",
            Category.BROKEN,
            status=404,
            reason="Not Found",
            final_url="https://example.com/a|b<script>`x`",
            elapsed_ms=20.0,
            diagnosis=make("http.not-found"),
            referrers=(Referrer(PARTNER, None, "<b>evil</b> | =cmd\x07"),),
        ),
        CheckResult(
            "https://slow.example.net/",
            Category.UNVERIFIED,
            final_url="https://slow.example.net/",
            elapsed_ms=10000.0,
            error=ErrorKind.TIMEOUT,
            error_message="no answer within 10 s",
            diagnosis=make("net.timeout", "no answer within 10 s"),
            referrers=(Referrer(GUIDE, 20, "slow server"),),
        ),
        CheckResult(
            "https://status.example.com/",
            Category.BROKEN,
            status=503,
            reason="Service Unavailable",
            final_url="https://status.example.com/",
            elapsed_ms=31.0,
            diagnosis=make("http.unavailable"),
            referrers=(Referrer(INDEX, 11, "Status page"),),
        ),
        CheckResult(
            "https://tracker.example.com/pixel",
            Category.EXCLUDED,
            final_url="https://tracker.example.com/pixel",
            error=ErrorKind.FILTERED,
            diagnosis=make("filter.excluded", "--exclude tracker"),
            referrers=(Referrer(INDEX, 15, "pixel"),),
        ),
        CheckResult(
            "https://weird.example.org/",
            Category.BROKEN,
            final_url="https://weird.example.org/",
            elapsed_ms=5.0,
            error=ErrorKind.OTHER,
            error_message="the server sent something odd",
            referrers=(Referrer(GUIDE, 30, "weird"),),
        ),
    )


def sample_report() -> Report:
    results = sample_results()
    summary = Summary.from_results(
        results,
        pages_crawled=3,
        elapsed_s=1.25,
        warnings=("TLS verification is disabled for insecure.example.org (--insecure)",),
    )
    return Report(summary, results)


def sample_context(*, verbose: bool = True) -> RenderContext:
    site = SITE.resolve()
    return RenderContext(
        sites=(LocalSite(site, BASE),), root=site, tool_version=TOOL_VERSION, verbose=verbose
    )
