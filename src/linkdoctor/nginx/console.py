"""Console rendering of lint results with rich: findings grouped by file, and the rule list.

The console is passed in, so output is testable::

    render_report(report, Console(file=buffer, width=100))
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from pathlib import Path
from typing import Final

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from linkdoctor.models import Severity
from linkdoctor.nginx.model import LintReport, Rule
from linkdoctor.printable import shown

STYLES: Final = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _display(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return shown(str(path.relative_to(base)), newlines=True)
        except ValueError:
            pass
    return shown(str(path), newlines=True)


def render_report(report: LintReport, console: Console, *, base: Path | None = None) -> None:
    """Each file with findings, then its findings by line (severity, rule id, message, fix), then a summary."""
    for file, group in groupby(report.findings, key=lambda f: f.file):
        console.print(f"[bold underline]{escape(_display(file, base))}[/]")
        grid = Table.grid(padding=(0, 1), pad_edge=True)
        grid.add_column(justify="right", style="dim", no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(ratio=1)
        for finding in group:
            text = Text(shown(finding.message, newlines=True))
            for step in finding.fix:
                text.append("\nfix: ", style="green")
                text.append(shown(step, newlines=True))
            style = STYLES[finding.severity]
            grid.add_row(str(finding.line), Text(str(finding.severity), style=style), finding.rule_id, text)
        console.print(grid)
        console.print()
    console.print(_summary(report, base))


def _summary(report: LintReport, base: Path | None) -> str:
    files = len(report.files)
    read = f"{files} file{'s' if files != 1 else ''} read"
    if not report.findings:
        return f"[green]No findings[/] in {escape(_display(report.config, base))} ({read})."
    counts = ", ".join(
        f"[{STYLES[s]}]{report.count(s)} {s}{'s' if report.count(s) != 1 else ''}[/]"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if report.count(s)
    )
    tail = " nginx would refuse this configuration." if report.refuses_start else ""
    return (
        f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''} ({counts}; {read}).{tail}"
    )


def render_rules(rules: Sequence[Rule], console: Console) -> None:
    """A table of every rule: id, severity, title and tags."""
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("id")
    table.add_column("severity")
    table.add_column("title")
    table.add_column("tags", style="dim")
    for rule in rules:
        table.add_row(
            rule.id,
            f"[{STYLES[rule.severity]}]{rule.severity}[/]",
            escape(rule.title),
            escape(", ".join(rule.tags)),
        )
    console.print(table)
