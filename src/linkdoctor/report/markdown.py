"""Markdown output, shaped for GitHub's job summary and issue bodies (GitHub Flavored Markdown).

A headline with the problems and the counts, then one section per problem (:mod:`linkdoctor.problems`,
most pages affected first): its cause, a table of the places that link to it (the first ten shown, the
rest folded in ``<details>``) and its fix steps folded in ``<details>``.
Everything that comes from crawled pages is escaped, so a link text cannot inject markup.

    write_markdown(report, sys.stdout, RenderContext())
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import TextIO

from linkdoctor import scratch
from linkdoctor.models import Category, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.printable import shown
from linkdoctor.problems import (
    START_URL,
    Location,
    Problem,
    ProblemCounts,
    count_problems,
    group_problems,
    headline,
)
from linkdoctor.report.context import NO_REFERRER, RenderContext, link_as_written, status_text

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def escape(text: str) -> str:
    """Plain text for a Markdown table cell: markup characters escaped, HTML neutralised, one line.

    >>> escape("a|b <i>")
    'a\\\\|b &lt;i&gt;'
    """
    text = shown(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """``text`` as an inline code span that survives backticks and table pipes.

    >>> code_span("a`b")
    '`` a`b ``'
    """
    text = shown(" ".join(text.split())).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


ROWS_SHOWN = 10


def _headline(report: Report, counts: ProblemCounts) -> list[str]:
    s = report.summary
    mark = "❌" if counts.broken else ("⚠️" if counts.problems else "✅")
    return [
        f"## {TOOL_NAME}: {mark} {escape(headline(counts))}",
        "",
        "| Problems | Links | OK | Redirected | Broken | Unverified | Excluded | Pages | Time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {counts.problems} | {s.total} | {s.ok} | {s.redirected} | {s.broken} | {s.unverified} "
        f"| {s.excluded} | {s.pages_crawled} | {s.elapsed_s:.1f} s |",
    ]


def _rows(problem: Problem, context: RenderContext, locations: Iterable[Location]) -> Iterator[str]:
    yield from ("| Page | Line | Link | Text |", "|---|---:|---|---|")
    for loc in locations:
        listed = loc.page != START_URL
        url = loc.link(problem.target)
        written = link_as_written(loc.page, url) if listed else url
        page = code_span(context.page_label(loc.page)) if listed else escape(NO_REFERRER)
        line = str(loc.line) if loc.line else ""
        yield f"| {page} | {line} | {code_span(written)} | {escape(loc.text)} |"


def _problem(problem: Problem, context: RenderContext) -> Iterator[str]:
    """The problem's lines, its places read as they are written (a huge site's link on every page)."""
    mark = "❌" if problem.category is Category.BROKEN else "⚠️"
    title = escape(problem.label.capitalize())
    yield from (f"#### {mark} {title}: {code_span(problem.url)} ({code_span(problem.code)})", "")
    places = f"linked {problem.links:,} time{'s' if problem.links != 1 else ''} from {problem.pages:,} page"
    places += "s" if problem.pages != 1 else ""
    yield from (f"{escape(problem.cause)} · status {escape(status_text(problem.result))} · {places}", "")
    yield from _rows(problem, context, problem.locations[:ROWS_SHOWN])
    rest = problem.locations[ROWS_SHOWN:]
    if rest:
        yield from ("", f"<details><summary>{len(rest):,} more places</summary>", "")
        yield from _rows(problem, context, rest)
        yield from ("", "</details>")
    if problem.fix:
        yield from ("", "<details><summary>How to fix</summary>", "")
        yield from (f"{number}. {escape(step)}" for number, step in enumerate(problem.fix, start=1))
        yield from ("", "</details>")
    yield ""


def _lines(report: Report, context: RenderContext) -> Iterator[str]:
    problems = group_problems(report.results)
    yield from _headline(report, count_problems(problems))
    yield ""
    if problems:
        yield from ("### Problems", "")
    for problem in problems:
        yield from _problem(problem, context)
    if report.summary.warnings:
        yield from ("### Warnings", "")
        yield from (f"- {escape(warning)}" for warning in report.summary.warnings)
        yield ""
    if report.summary.left_out:
        yield from ("### Left out", "")
        yield from (
            f"- {code_span(item.code)}: {item.count:,} {escape(item.detail)}"
            + (f" (e.g. {code_span(item.examples[0])})" if item.examples else "")
            for item in report.summary.left_out
        )
        yield ""


def render_markdown(report: Report, context: RenderContext) -> str:
    """The whole report as one Markdown document."""
    out = io.StringIO()
    write_markdown(report, out, context)
    return out.getvalue()


def write_markdown(report: Report, out: TextIO, context: RenderContext) -> None:
    """The report, written :data:`~linkdoctor.scratch.PIECE` lines at a time. The document ends with one
    newline: the blank lines that end the last section are held back until more comes."""
    blank = 0
    lines: list[str] = []
    for line in _lines(report, context):
        if not line:
            blank += 1
            continue
        lines.append("\n" * blank + line if blank else line)
        blank = 0
        if len(lines) >= scratch.PIECE:
            out.write("\n".join(lines) + "\n")
            lines.clear()
    if lines:
        out.write("\n".join(lines) + "\n")
