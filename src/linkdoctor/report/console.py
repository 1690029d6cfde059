"""The console report (rich): a live progress bar while running, then the problems, then a one-line
summary.

The report is grouped by problem (:mod:`linkdoctor.problems`), most pages affected first. Each problem
shows its cause, its fix and the first few places it was linked from, with "+N more"; ``--verbose``
lists every place. ``--group-by page`` lists each referring page with its problems instead, for someone
fixing one page at a time. The summary line (:func:`~linkdoctor.problems.summary_line`) is the same everywhere the CLI prints
it, and its counts are those of every other format.

The console is injected, so output is testable (``Console(file=io.StringIO(), width=100)``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from itertools import groupby, islice
from operator import attrgetter

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from linkdoctor.engine.progress import Progress as Counters
from linkdoctor.models import Category, Report
from linkdoctor.printable import shown
from linkdoctor.problems import (
    START_URL,
    Location,
    Problem,
    ProblemCounts,
    ProblemKind,
    by_page,
    count_problems,
    group_problems,
    headline,
    problem_counts,
    summary_line,
)
from linkdoctor.problems_on_disk import StoredProblems
from linkdoctor.report.context import RenderContext, link_as_written, status_text

# What the default (not --verbose) report shows: enough to act on, and about 150 lines for a handful of
# problems however many times each is linked.
PAGES_SHOWN = 5
PLACES_SHOWN = 4
PROBLEMS_SHOWN = 20

_STYLE = {
    Category.BROKEN: "bold red",
    Category.UNVERIFIED: "yellow",
    Category.REDIRECTED: "cyan",
    Category.OK: "green",
    Category.EXCLUDED: "dim",
}


@asynccontextmanager
async def live_progress(counters: Counters, console: Console, *, enabled: bool) -> AsyncIterator[None]:
    """Show pages crawled, links with a verdict out of those found, rate, broken links and problems so far
    while the body runs. Both are counted as the summary counts them, so the bar ends on its numbers."""
    if not enabled:
        yield
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[pages]}[/] pages"),
        TextColumn("[bold]{task.completed:.0f}[/]/{task.total:.0f} links"),
        BarColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TextColumn("[red]{task.fields[broken]} broken · {task.fields[problems]} problems"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("check", total=1, pages=0, rate=0.0, broken=0, problems=0)

        async def refresh() -> None:
            while True:
                elapsed = max(time.monotonic() - counters.started, 1e-6)
                done = counters.done
                bar.update(
                    task,
                    completed=done,
                    total=max(counters.links, done, 1),
                    pages=counters.pages,
                    rate=done / elapsed,
                    broken=min(counters.broken, done),
                    problems=counters.problems,
                )
                await asyncio.sleep(0.1)

        updater = asyncio.create_task(refresh())
        try:
            yield
        finally:
            updater.cancel()


def _line(*parts: str | tuple[str, str]) -> Text:
    """A line of ``parts``, each text or (text, style), printed as they are: text from outside holds
    brackets and backslashes that markup would read (``a\\[/]``), so it never goes through markup.
    Show it with :func:`~linkdoctor.printable.shown` first."""
    return Text.assemble(*parts)


def render_report(
    report: Report,
    console: Console,
    context: RenderContext | None = None,
    *,
    verbose: bool | None = None,
    group_by: str | None = None,
) -> None:
    """The problems (by problem, or by page with ``group_by="page"``), then the summary line."""
    context = context or RenderContext()
    verbose = context.verbose if verbose is None else verbose
    problems = group_problems(report.results)
    if (group_by or context.group_by) == "page":
        _render_pages(problems, console, context)
    else:
        _render_problems(problems, console, context, verbose=verbose)
    render_summary(report, console, count_problems(problems))


def _render_problems(
    problems: Sequence[Problem], console: Console, context: RenderContext, *, verbose: bool
) -> None:
    listed = problems if verbose else problems[:PROBLEMS_SHOWN]
    for problem in listed:
        _render_problem(problem, console, context, verbose=verbose)
    if len(problems) > len(listed):
        more = len(problems) - len(listed)
        console.print(f"\n[dim]+{more:,} more problems, fewer pages each (--verbose lists all)[/]")


def _render_problem(problem: Problem, console: Console, context: RenderContext, *, verbose: bool) -> None:
    result = problem.result
    style = _STYLE[problem.category]
    what = "missing anchor" if problem.kind is ProblemKind.ANCHOR else status_text(result)
    title = context.page_label(problem.target) + (f"#{problem.anchor}" if problem.anchor else "")
    console.print(
        _line("\n", (f"✗ {shown(what)}", style), "  ", (shown(title), "bold"), "  ", (problem.code, "dim"))
    )
    console.print(_line("  ", shown(problem.cause)))
    for step in problem.fix:
        console.print(_line("  ", ("fix:", "green"), " ", shown(step)))
    for finding in result.findings:
        console.print(_line("  ", (finding.code, "magenta"), f" ({finding.actor}): ", shown(finding.summary)))
    fragments = len(problem.fragments) if problem.kind is ProblemKind.DOCUMENT else 0
    through = f" through {fragments:,} #fragments" if fragments else ""
    console.print(f"  linked {_times(problem.links)} from {_count(problem.pages, 'page')}{through}:")
    # Places come sorted by page: the pages shown are read, not every place (a link on every page of a huge
    # site, listed from disk).
    pages = groupby(problem.locations, key=attrgetter("page"))
    shown_pages = shown_links = 0
    for page, group in pages if verbose else islice(pages, PAGES_SHOWN):
        locations = list(group)
        places = locations if verbose else locations[:PLACES_SHOWN]
        shown_pages += 1
        shown_links += len(locations)
        line = _line("    ", shown(context.page_label(page)))
        line.append_text(Text(", ").join(_place(loc, problem) for loc in places))
        if len(places) < len(locations):
            line.append(f" +{len(locations) - len(places):,} more", style="dim")
        console.print(line)
    more_pages = problem.pages - shown_pages
    if more_pages > 0:
        more = problem.links - shown_links
        console.print(
            f"    [dim]+{more_pages:,} more pages ({_times(more)}; --verbose lists all)[/]"
            if more != more_pages
            else f"    [dim]+{more_pages:,} more pages (--verbose lists all)[/]"
        )


def _render_pages(problems: Sequence[Problem], console: Console, context: RenderContext) -> None:
    pages = problems.by_page() if isinstance(problems, StoredProblems) else by_page(problems)
    for page in pages:
        console.print(_line("\n", (shown(context.page_label(page.page)), "bold")))
        for loc, problem in page.entries:
            where = f"line {loc.line}" if loc.line else ""
            style = _STYLE[problem.category]
            what = "anchor" if problem.kind is ProblemKind.ANCHOR else status_text(problem.result)
            link = loc.link(problem.target)
            link = link_as_written(loc.page, link) if loc.page != START_URL else link
            console.print(
                _line("  ", (f"{where:>9}", "dim"), "  ", (f"{shown(what):>7}", style), "  ", shown(link), "  ",
                      (problem.code, "dim"))
            )  # fmt: skip
            console.print(_line("             ", (shown(problem.cause), "italic")))


def _place(loc: Location, problem: Problem) -> Text:
    """``:12 #fragment`` — the line, and the fragment a link into a broken document used."""
    line = f":{loc.line}" if loc.line else ""
    if problem.kind is ProblemKind.DOCUMENT and loc.fragment:
        return _line(line, " ", (f"#{shown(loc.fragment)}", "dim"))
    return Text(line)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count:,} times"


def _count(count: int, noun: str) -> str:
    return f"1 {noun}" if count == 1 else f"{count:,} {noun}s"


def render_summary(report: Report, console: Console, counts: ProblemCounts | None = None) -> None:
    """The summary line (problems in red when there are any), then warnings and what was left out."""
    s = report.summary
    counts = problem_counts(report.results) if counts is None else counts
    console.print()
    style = "bold red" if counts.broken else ("yellow" if counts.problems else "green")
    line = summary_line(s, counts)
    head = headline(counts)
    console.print(_line((shown(head), style), shown(line[len(head) :])))
    for warning in s.warnings:
        console.print(_line(("warning:", "bold yellow"), " ", shown(warning)))
    for item in s.left_out:  # what the run left out on purpose, one counted line per reason
        console.print(_line(("left out:", "bold yellow"), " ", shown(item.line())))
