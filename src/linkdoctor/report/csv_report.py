"""CSV output: one row per problem and referring place (:mod:`linkdoctor.problems`, most pages affected
first), for spreadsheets and scripts, then one ``(left out)`` row per group of what the run left out (a
trap, a cap, a budget, pages cut at --max-body). ``url`` is the link found (fragment and all), ``link`` the
same as its page wrote it, ``target`` the document the problem is about and ``problem`` its stable id.

Columns are fixed (see :data:`COLUMNS`); fix steps are joined with newlines inside one quoted cell.
Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@`` …) are prefixed with ``'``,
because link texts and URLs come from pages we do not control.

    write_csv(report, sys.stdout, RenderContext())
"""

from __future__ import annotations

import csv
from typing import Final, TextIO

from linkdoctor.classify import codes
from linkdoctor.models import Report
from linkdoctor.printable import shown
from linkdoctor.problems import START_URL, group_problems
from linkdoctor.report.context import NO_REFERRER, RenderContext, link_as_written, status_text

LEFT_OUT: Final = "(left out)"

COLUMNS: tuple[str, ...] = (
    "page",
    "file",
    "line",
    "text",
    "url",
    "link",
    "target",
    "final_url",
    "status",
    "precise_status",
    "error",
    "category",
    "code",
    "problem",
    "summary",
    "fix",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = shown(str(value), newlines=True)  # a quoted cell holds a newline; a terminal never sees ESC
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(report: Report, out: TextIO, context: RenderContext) -> None:
    """Write the header and one row per (problem, referring place), problems most pages affected first."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for problem in group_problems(report.results):
        result = problem.result
        for loc in problem.locations:
            listed = loc.page != START_URL
            url = loc.link(problem.target)
            row = (
                loc.page if listed else NO_REFERRER,
                context.source_path(loc.page) if listed else None,
                loc.line,
                loc.text or None,
                url,
                link_as_written(loc.page, url) if listed else url,
                problem.target,
                result.final_url or problem.target,
                result.status,
                result.precise_status,
                result.error.value if result.error else None,
                problem.category.value,
                problem.code,
                problem.id,
                problem.cause if result.diagnosis else result.error_message or status_text(result),
                "\n".join(problem.fix) or None,
            )
            writer.writerow([_cell(value) for value in row])
    for item in report.summary.left_out:  # one row per group the run left out, its count in the summary
        entry = codes.CODES.get(item.code)
        example = item.examples[0] if item.examples else None
        left = (LEFT_OUT, None, None, None, example, example, example, example, None, None, None, None,
                item.code, None, item.line(), "\n".join(entry.fix) if entry else None)  # fmt: skip
        writer.writerow([_cell(value) for value in left])
