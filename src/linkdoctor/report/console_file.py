"""The console format as a report writer: the rich rendering of :mod:`.console` on any text stream.

A terminal gets colour and its own width; a file, pipe or CI log gets plain text with one line per
fact (no wrapping), whatever the environment says, so saved reports (``-o report.txt``) are stable.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

from linkdoctor.models import Report
from linkdoctor.report.console import render_report
from linkdoctor.report.context import RenderContext

FILE_WIDTH = 100  # only rules and tables use it; text lines are never wrapped


def write_console(report: Report, out: TextIO, context: RenderContext) -> None:
    if out.isatty():
        console = Console(file=out, highlight=False, emoji=False)
    else:
        console = Console(
            file=out,
            highlight=False,
            emoji=False,  # a server's reason phrase of :skull: is text
            width=FILE_WIDTH,
            force_terminal=False,
            color_system=None,
            soft_wrap=True,
        )
    render_report(report, console, context)
