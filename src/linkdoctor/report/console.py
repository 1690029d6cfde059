"""The console report (rich): a live progress bar while running, then broken links grouped by the page
that refers to them, each with its line and diagnosis, then a summary.

The console is injected, so output is testable (``Console(file=io.StringIO(), width=100)``).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from linkdoctor.engine.crawl import Progress as Counters
from linkdoctor.models import Category, CheckResult, Report

_STYLE = {
    Category.BROKEN: "bold red",
    Category.UNVERIFIED: "yellow",
    Category.REDIRECTED: "cyan",
    Category.OK: "green",
    Category.EXCLUDED: "dim",
}


@asynccontextmanager
async def live_progress(counters: Counters, console: Console, *, enabled: bool) -> AsyncIterator[None]:
    """Show pages crawled, links checked, rate and broken-so-far while the body runs."""
    if not enabled:
        yield
        return
    columns = (
        SpinnerColumn(),
        TextColumn("[bold]{task.fields[pages]}[/] pages"),
        TextColumn("[bold]{task.completed:.0f}[/]/{task.total:.0f} links"),
        BarColumn(),
        TextColumn("{task.fields[rate]:.0f}/s"),
        TextColumn("[red]{task.fields[broken]} broken"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("check", total=1, pages=0, rate=0.0, broken=0)

        async def refresh() -> None:
            while True:
                elapsed = max(time.monotonic() - counters.started, 1e-6)
                bar.update(
                    task,
                    completed=counters.checked,
                    total=max(counters.queued, 1),
                    pages=counters.pages,
                    rate=counters.checked / elapsed,
                    broken=counters.broken,
                )
                await asyncio.sleep(0.1)

        updater = asyncio.create_task(refresh())
        try:
            yield
        finally:
            updater.cancel()


def _by_page(results: Iterable[CheckResult]) -> dict[str, list[tuple[int | None, CheckResult]]]:
    pages: dict[str, list[tuple[int | None, CheckResult]]] = defaultdict(list)
    for result in results:
        if result.category not in (Category.BROKEN, Category.UNVERIFIED):
            continue
        for referrer in result.referrers or ():
            pages[referrer.url].append((referrer.line, result))
        if not result.referrers:
            pages["(start URL)"].append((None, result))
    return pages


def _status_text(result: CheckResult) -> str:
    if result.status is None:
        return result.error.value if result.error else "-"
    if result.precise_status and result.precise_status != result.status:
        return f"{result.status}→{result.precise_status}"
    return str(result.status)


def render_report(report: Report, console: Console, *, verbose: bool = False) -> None:
    """Broken (and unverified) links grouped by referring page, then the summary."""
    pages = _by_page(report.results)
    for page in sorted(pages):
        console.print(f"\n[bold]{escape(page)}[/]")
        for line, result in sorted(pages[page], key=lambda item: (item[0] or 0, item[1].url)):
            where = f"line {line}" if line else "      "
            style = _STYLE[result.category]
            code = result.diagnosis.code if result.diagnosis else result.category.value
            console.print(
                f"  [dim]{where:>9}[/]  [{style}]{_status_text(result):>7}[/]  {escape(result.url)}  [dim]{code}[/]"
            )
            if result.diagnosis:
                console.print(f"             [italic]{escape(result.diagnosis.summary)}[/]")
                if verbose:
                    for step in result.diagnosis.fix:
                        console.print(f"             • {escape(step)}")
            for finding in result.findings:
                console.print(
                    f"             [magenta]{finding.code}[/] ({finding.actor}): {escape(finding.summary)}"
                )
    render_summary(report, console)


def render_summary(report: Report, console: Console) -> None:
    s = report.summary
    console.print()
    parts = [
        f"[bold]{s.total}[/] links",
        f"[green]{s.ok} ok[/]",
        f"[cyan]{s.redirected} redirected[/]",
        f"[bold red]{s.broken} broken[/]" if s.broken else "0 broken",
        f"[yellow]{s.unverified} unverified[/]",
        f"[dim]{s.excluded} excluded[/]",
    ]
    console.print(" · ".join(parts) + f"  ({s.pages_crawled} pages in {s.elapsed_s:.1f}s)")
    for warning in s.warnings:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}")
    for item in s.left_out:  # what the run left out on purpose, one counted line per reason
        console.print(f"[bold yellow]left out:[/] {escape(item.line())}")
