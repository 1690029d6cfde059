"""Catalogue entries for what a crawl leaves out on purpose: traps, caps, budgets and bodies cut short.

A report shows each as one grouped, counted line (:class:`~linkdoctor.models.LeftOut`), never as one
result per URL, so a trap of a million URLs costs a line. The public API is :mod:`linkdoctor.classify.codes`;
this module only holds data.
"""

from __future__ import annotations

from typing import Final

from linkdoctor.classify.codes_model import CLIENT, EITHER, OPERATOR, DiagnosisInfo

ENTRIES: Final[tuple[DiagnosisInfo, ...]] = (
    DiagnosisInfo(
        code="crawl.trap-suspected",
        title="Crawler trap suspected",
        summary="links left out: their paths repeat or deepen without end, like a crawler trap",
        explanation=(
            "Some sites generate endless URLs: a calendar whose every day links to the next one "
            "(/2026/01/02, /2026/01/03 …), relative links that nest a path inside itself (a/b/a/b/a/b), "
            "or a session id written into every link, so the same pages come back under new URLs forever. "
            "linkdoctor stops following a path once it repeats a block of segments three times, once URLs "
            "of one shape holding two numbers or more, like a date (/cal/#/#/#: digits and ids set aside), "
            "keep appearing more than --trap-depth links deeper than where the shape was first seen, or "
            "once one path comes back with more than --trap-ids different session-like ids. A numbered "
            "chain of pages (/page/7) is finite and left alone. Real documentation trees do none of this."
        ),
        fix=(
            "Exclude the generated part of the site with --exclude REGEX (for example --exclude '/calendar/').",
            "If these URLs are real pages, raise --trap-depth or --trap-ids, or set them to 0 to turn the "
            "check off.",
            'Operator: mark generated navigation rel="nofollow", or stop writing session ids into URLs.',
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="crawl.query-cap",
        title="Too many query strings on one path",
        summary="links left out: one path came with more distinct query strings than --max-queries allows",
        explanation=(
            "Faceted search, sort orders, filters and tracking parameters can give one page an unbounded "
            "number of URLs. After --max-queries distinct query strings on one path, further ones are not "
            "checked; the path itself and the queries already seen are."
        ),
        fix=(
            "Raise --max-queries if the query strings name distinct pages you want checked, or 0 for no cap.",
            "Exclude the parameters that do not matter, for example --exclude '[?&](sort|filter)='.",
        ),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="crawl.path-too-deep",
        title="Path too deep",
        summary="links left out: their paths have more segments than --max-path-depth allows",
        explanation=(
            "Paths that nest deeper and deeper are usually relative links resolving against themselves. "
            "Pages in scope whose path has more segments than --max-path-depth are not crawled or checked."
        ),
        fix=(
            "Raise --max-path-depth if the site really nests that deep, or 0 for no limit.",
            "Operator: fix the relative link that resolves against its own page (a missing leading slash).",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="crawl.link-cap",
        title="Too many links on one page",
        summary="links left out: a page held more links than --max-links-per-page allows",
        explanation=(
            "A page with hundreds of thousands of links is a generated listing or a trap; only the first "
            "--max-links-per-page links of a page are checked, in document order."
        ),
        fix=(
            "Raise --max-links-per-page if the page is a real index, or 0 for no cap.",
            "Operator: paginate very long listings.",
        ),
        actor=EITHER,
    ),
    DiagnosisInfo(
        code="crawl.url-budget",
        title="URL budget reached",
        summary="links left out: the run reached --max-urls distinct URLs",
        explanation=(
            "The run stops taking new URLs after --max-urls distinct ones, so memory and time stay bounded "
            "whatever a site generates. URLs already taken are checked; the count says how many new ones "
            "were turned away."
        ),
        fix=(
            "Raise --max-urls to check a bigger site, or narrow the crawl with --exclude, --depth or --scope.",
        ),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="crawl.time-budget",
        title="Time budget reached",
        summary="URLs not checked: --max-time ended the run",
        explanation=(
            "The run stops starting checks once --max-time has passed; checks in flight finish, and the "
            "URLs still queued are counted here instead of checked."
        ),
        fix=("Raise --max-time, or narrow the crawl with --exclude, --depth or --scope.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="crawl.interrupted",
        title="Run interrupted",
        summary="URLs not checked: the run was stopped by SIGINT or SIGTERM, and its report is partial",
        explanation=(
            "A check stopped by Ctrl-C or SIGTERM starts no new check and sends no request that has not gone "
            "out yet; it lets the requests in flight finish, and writes its report with what was done. The "
            "URLs not checked are counted here. A distributed check (--broker) keeps its scan's state on the "
            "broker: the pages the workers fetched are kept for --resume. A second signal stops at once, "
            "with no report."
        ),
        fix=(
            "Run the check again for a complete report (with --cache, the results already cached are "
            "not fetched again).",
            "For a distributed check, run the same command again with --resume SCAN (the key the check "
            "printed): the stored pages are replayed, not fetched again, and the report is complete.",
        ),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="crawl.page-budget",
        title="Page budget reached",
        summary="pages checked but not crawled: the run reached --max-pages pages",
        explanation=(
            "After --max-pages pages, further pages in scope are still checked as links, but their own links "
            "are not read, so what they link to is not checked."
        ),
        fix=("Raise --max-pages, or narrow the crawl with --exclude, --depth or --scope.",),
        actor=CLIENT,
    ),
    DiagnosisInfo(
        code="http.body-truncated",
        title="Page cut at --max-body",
        summary="The body was cut at --max-body: links past the cut were not checked",
        explanation=(
            "linkdoctor reads at most --max-body bytes of a page (after decompression). The page itself "
            "answered and is reported ok, but links that come after the cut were never seen. A very large "
            "page is often a generated dump or a trap; a compressed body that inflates past the limit is "
            "cut the same way, so a gzip bomb costs no more than --max-body."
        ),
        fix=(
            "Raise --max-body if the page is real and its links matter.",
            "Operator: split very large pages.",
        ),
        actor=OPERATOR,
    ),
)
