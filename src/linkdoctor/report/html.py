"""The HTML report: one self-contained file that makes no request of its own.

It shows the counts by category and by diagnosis, an inline-SVG chart of status classes, and a table
of every link that can be filtered (broken, redirected, unverified …), searched and sorted, with each
row's diagnosis and fix steps. It is rendered with Jinja2 from ``templates/report.html.j2``; the CSS
and script are inlined and pinned by hashes in a Content-Security-Policy, so the page can load nothing
else and run no other script, whatever the crawled pages contained.

    write_html(report, open("report.html", "w"), RenderContext())
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from linkdoctor.models import Category, CheckResult, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.report.context import (
    CATEGORY_ORDER,
    STATUS_CLASSES,
    RenderContext,
    category_counts,
    diagnosis_counts,
    diagnosis_title,
    no_referrer_label,
    status_class,
    status_text,
)

CHART_BAR_WIDTH = 300
_LINKABLE = ("http://", "https://", "file://")
_PROBLEMS = "problems"


@dataclass(frozen=True, slots=True)
class PageRef:
    label: str
    href: str
    line: int | None
    text: str


@dataclass(frozen=True, slots=True)
class Row:
    index: int
    result: CheckResult
    rank: int
    status: str
    status_sort: int
    status_class: str
    href: str
    pages: tuple[PageRef, ...]
    first_page: str
    code: str
    search: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    width: int
    css: str


@dataclass(frozen=True, slots=True)
class FilterOption:
    value: str
    label: str
    count: int


def _href(url: str) -> str:
    # Only plain web and file links become clickable; javascript: and the like stay text.
    return url if url.lower().startswith(_LINKABLE) else ""


def _row(index: int, result: CheckResult, context: RenderContext) -> Row:
    pages = tuple(
        PageRef(context.page_label(r.url), _href(r.url), r.line, r.text) for r in result.referrers
    ) or (PageRef(no_referrer_label(result), "", None, ""),)
    code = result.diagnosis.code if result.diagnosis else ""
    words = [result.url, result.category.value, code, *(p.label for p in pages)]
    if result.diagnosis:
        words.append(result.diagnosis.summary)
    return Row(
        index=index,
        result=result,
        rank=CATEGORY_ORDER.index(result.category),
        status=status_text(result),
        status_sort=result.precise_status or result.status or 0,
        status_class=status_class(result),
        href=_href(result.url),
        pages=pages,
        first_page=pages[0].label,
        code=code,
        search=" ".join(words).lower(),
    )


def _bars(report: Report) -> list[Bar]:
    counts = dict.fromkeys(STATUS_CLASSES, 0)
    for result in report.results:
        counts[status_class(result)] += 1
    largest = max(counts.values(), default=0) or 1
    return [
        Bar(label, count, max(1, round(CHART_BAR_WIDTH * count / largest)), "c-" + label.replace(" ", "-"))
        for label, count in counts.items()
        if count
    ]


def _filters(report: Report) -> list[FilterOption]:
    by_category = dict(category_counts(report))
    problems = by_category[Category.BROKEN] + by_category[Category.UNVERIFIED]
    options = [
        FilterOption("all", "all", report.summary.total),
        FilterOption(_PROBLEMS, "broken and unverified", problems),
    ]
    options += [FilterOption(c.value, c.value, by_category[c]) for c in CATEGORY_ORDER]
    return options


def _asset(name: str) -> str:
    return resources.files("linkdoctor.report").joinpath("templates", name).read_text("utf-8")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("linkdoctor.report", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: Report, context: RenderContext) -> str:
    """The report as one HTML document (UTF-8 text)."""
    css, script = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    problems = report.summary.broken + report.summary.unverified
    template = _environment().get_template("report.html.j2")
    return template.render(
        tool=TOOL_NAME,
        version=context.tool_version,
        summary=report.summary,
        categories=category_counts(report),
        diagnoses=[(code, diagnosis_title(code), count) for code, count in diagnosis_counts(report)],
        bars=_bars(report),
        filters=_filters(report),
        selected=_PROBLEMS if problems else "all",
        rows=[_row(i, r, context) for i, r in enumerate(report.results)],
        csp=csp,
        css=Markup(css),  # our own packaged stylesheet, pinned by its CSP hash
        script=Markup(script),  # our own packaged script, pinned by its CSP hash
    )


def write_html(report: Report, out: TextIO, context: RenderContext) -> None:
    out.write(render_html(report, context))
