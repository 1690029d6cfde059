"""The HTML report: one self-contained file that makes no request of its own, sized for any site.

It opens on the problems (:mod:`linkdoctor.problems`, most pages affected first): each with its cause,
status, reach, a link to its code's fix steps (listed once per code) and a collapsible list of the pages
that link to it (with lines and the fragments used; the first hundred pages, the JSON report has all),
filtered by category and kind and searched. Below, the counts by category and by problem
kind, an inline-SVG chart of status classes, and a table of every target document checked (fragment
links folded in, as in the JSON report version 2), filtered, searched and sorted. That table is rendered
by the page's script from a JSON data block, a few hundred rows at a time, so a site of 100,000 links
stays a few megabytes and opens in a second.

It is rendered with Jinja2 from ``templates/report.html.j2``; the CSS and script are inlined and pinned by
hashes in a Content-Security-Policy, so the page can load nothing else and run no other script, whatever
the crawled pages contained.

    write_html(report, open("report.html", "w"), RenderContext())
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import groupby, islice
from operator import attrgetter
from typing import Any, TextIO

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from linkdoctor.models import Category, CheckResult, LazyResults, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.problems import (
    START_URL,
    Location,
    Problem,
    ProblemKind,
    count_problems,
    group_problems,
    headline,
)
from linkdoctor.report.context import (
    CATEGORY_ORDER,
    STATUS_CLASSES,
    RenderContext,
    category_counts,
    link_as_written,
    status_class,
    status_text,
)
from linkdoctor.report.json_index import Runs, target_runs
from linkdoctor.report.json_v2 import document_result
from linkdoctor.scratch import pieces

CHART_BAR_WIDTH = 300
# Referring pages listed in a problem's collapsible list; the JSON report lists them all.
PAGES_LISTED = 100
_LINKABLE = ("http://", "https://", "file://")
_PROBLEMS = "problems"


@dataclass(frozen=True, slots=True)
class Place:
    """One line of a problem's collapsible list: a referring page and where on it the link is."""

    label: str
    href: str
    spots: tuple[tuple[int | None, str, str], ...]  # (line, fragment shown, tooltip)


@dataclass(frozen=True, slots=True)
class ProblemView:
    problem: Problem
    status: str
    status_class: str
    places: tuple[Place, ...]
    more_pages: int
    fragments: int
    href: str


@dataclass(frozen=True, slots=True)
class CodeFix:
    """A diagnosis code's fix steps, listed once for every problem that has it."""

    code: str
    title: str
    fix: tuple[str, ...]


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


def _places(problem: Problem, context: RenderContext) -> tuple[Place, ...]:
    """The first :data:`PAGES_LISTED` pages of the problem's places (in page order), read no further."""
    places = []
    for page, locations in islice(groupby(problem.locations, key=attrgetter("page")), PAGES_LISTED):
        listed = page != START_URL
        spots = tuple(
            (
                loc.line,
                loc.fragment if problem.kind is ProblemKind.DOCUMENT else "",
                _title(problem, page, loc),
            )
            for loc in locations
        )
        places.append(Place(context.page_label(page) if listed else page, _href(page), spots))
    return tuple(places)


def _title(problem: Problem, page: str, loc: Location) -> str:
    """A place's tooltip: the link as its page wrote it (when that is not the problem's URL) and its text."""
    url = loc.link(problem.target)
    written = link_as_written(page, url) if page != START_URL else url
    parts = [written] if written != problem.url else []
    if loc.text:
        parts.append(f"“{loc.text}”")
    return " ".join(parts)


def _problem_view(problem: Problem, context: RenderContext) -> ProblemView:
    places = _places(problem, context)
    return ProblemView(
        problem=problem,
        status="anchor" if problem.kind is ProblemKind.ANCHOR else status_text(problem.result),
        status_class=status_class(problem.result),
        places=places,
        more_pages=problem.pages - len(places),
        fragments=len(problem.fragments) if problem.kind is ProblemKind.DOCUMENT else 0,
        href=_href(problem.url),
    )


class _Views:
    """The problems' views, each made as the page lists it (a huge site's problems are read from disk)."""

    def __init__(self, problems: Sequence[Problem], context: RenderContext) -> None:
        self._problems = problems
        self._context = context

    def __len__(self) -> int:
        return len(self._problems)

    def __iter__(self) -> Iterator[ProblemView]:
        return (_problem_view(problem, self._context) for problem in self._problems)


def _fixes(problems: Iterable[Problem]) -> list[CodeFix]:
    """Each code's fix steps once (the first problem's), in the order the problems come."""
    seen: dict[str, CodeFix] = {}
    for problem in problems:
        if problem.fix and problem.code not in seen:
            seen[problem.code] = CodeFix(problem.code, problem.label, problem.fix)
    return list(seen.values())


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


def _target_rows(results: Sequence[CheckResult], runs: Runs) -> Iterator[list[Any]]:
    """One row per target document, as the JSON report version 2 lists them: URL, the worst verdict among
    its links (a page that is fine but has a missing anchor is broken here), status, its sort key and
    class, the diagnosis code of that verdict, times linked (0: a start URL), and where redirects ended."""
    for target, indices in runs.groups():
        members = [results[i] for i in indices]
        document = document_result(members)
        linked = sum(m.referrers_found for m in members)
        worst_member = min(members, key=lambda m: CATEGORY_ORDER.index(m.category))
        worst = worst_member.category
        diagnosis = worst_member.diagnosis if worst is not document.category else document.diagnosis
        final = document.final_url.partition("#")[0] if document.final_url else ""
        yield [
            target,
            worst.value,
            status_text(document),
            document.precise_status or document.status or 0,
            status_class(document),
            diagnosis.code if diagnosis else "",
            linked,
            final if final and final != target else "",
        ]


def _filters(rows: Iterable[list[Any]]) -> list[FilterOption]:
    """The table's filter options, each with its count; the first counts every row."""
    by_category = dict.fromkeys(CATEGORY_ORDER, 0)
    for row in rows:
        by_category[Category(row[1])] += 1
    problems = by_category[Category.BROKEN] + by_category[Category.UNVERIFIED]
    options = [
        FilterOption("all", "all", sum(by_category.values())),
        FilterOption(_PROBLEMS, "broken and unverified", problems),
    ]
    options += [FilterOption(c.value, c.value, by_category[c]) for c in CATEGORY_ORDER]
    return options


def _data_block(rows: Iterable[list[Any]]) -> Iterator[Markup]:
    """A JSON array for a ``<script type="application/json">`` block, :data:`~linkdoctor.scratch.PIECE`
    rows at a time: nothing in it can close the element."""
    yield Markup("[")
    separator = ""
    for piece in pieces(rows):
        text = separator + json.dumps(piece, ensure_ascii=False, separators=(",", ":"))[1:-1]
        text = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
        yield Markup(text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
        separator = ","
    yield Markup("]")


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
    return "".join(_generate(report, context))


def write_html(report: Report, out: TextIO, context: RenderContext) -> None:
    """The document, written as it is rendered: the problems one at a time, the table's rows a piece at a
    time (a huge site's, read from disk)."""
    out.writelines(_generate(report, context))


def _generate(report: Report, context: RenderContext) -> Iterator[str]:
    css, script = _asset("report.css"), _asset("report.js")
    csp = (
        f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(script)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    results = report.results
    problems = group_problems(results)
    counts = count_problems(problems)
    outside_memory = isinstance(results, LazyResults) and results.outside_memory
    runs = target_runs((result.url for result in results), outside_memory)
    filters = _filters(_target_rows(results, runs))  # a first pass, counting
    template = _environment().get_template("report.html.j2")
    return template.generate(
        tool=TOOL_NAME,
        version=context.tool_version,
        summary=report.summary,
        counts=counts,
        headline=headline(counts),
        categories=category_counts(report),
        problems=_Views(problems, context),
        fixes=_fixes(problems),
        bars=_bars(report),
        filters=filters,
        selected=_PROBLEMS if counts.problems else "all",
        targets=filters[0].count,
        rows=_data_block(_target_rows(results, runs)),
        csp=csp,
        css=Markup(css),  # our own packaged stylesheet, pinned by its CSP hash
        script=Markup(script),  # our own packaged script, pinned by its CSP hash
    )
