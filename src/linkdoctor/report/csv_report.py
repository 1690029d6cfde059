"""CSV output: one row per broken link and the page that refers to it, for spreadsheets and scripts, then one
``(left out)`` row per group of what the run left out (a trap, a cap, a budget, pages cut at --max-body).

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
from linkdoctor.report.context import NO_REFERRER, RenderContext, referrer_pairs

LEFT_OUT: Final = "(left out)"

COLUMNS: tuple[str, ...] = (
    "page",
    "file",
    "line",
    "text",
    "url",
    "final_url",
    "status",
    "precise_status",
    "error",
    "code",
    "summary",
    "fix",
)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def write_csv(report: Report, out: TextIO, context: RenderContext) -> None:
    """Write the header and one row per (broken link, referrer), in the report's order."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for result, referrer in referrer_pairs(report.results):
        page = referrer.url if referrer else NO_REFERRER
        diagnosis = result.diagnosis
        row = (
            page,
            context.source_path(page) if referrer else None,
            referrer.line if referrer else None,
            referrer.text if referrer else None,
            result.url,
            result.final_url or result.url,
            result.status,
            result.precise_status,
            result.error.value if result.error else None,
            diagnosis.code if diagnosis else None,
            diagnosis.summary if diagnosis else result.error_message,
            "\n".join(diagnosis.fix) if diagnosis else None,
        )
        writer.writerow([_cell(value) for value in row])
    for item in report.summary.left_out:  # one row per group the run left out, its count in the summary
        entry = codes.CODES.get(item.code)
        example = item.examples[0] if item.examples else None
        left = (LEFT_OUT, None, None, None, example, example, None, None, None, item.code, item.line(),
                "\n".join(entry.fix) if entry else None)  # fmt: skip
        writer.writerow([_cell(value) for value in left])
