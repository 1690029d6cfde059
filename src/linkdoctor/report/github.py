"""GitHub Actions workflow commands: one ``::error`` annotation per broken link and referring page.

When the page is a local file the annotation sits at its file and line, so GitHub shows it in the
pull request's diff; otherwise it names the page. Values are escaped as the runner expects
(``%``, CR, LF, and in properties also ``:`` and ``,``), so link texts cannot forge commands.

    write_github(report, sys.stdout, RenderContext(sites=inputs.sites, root=Path.cwd()))
"""

from __future__ import annotations

from typing import TextIO

from linkdoctor.models import Report
from linkdoctor.report.context import RenderContext, referrer_pairs, status_text


def escape_data(text: str) -> str:
    """Escape a command's message.

    >>> escape_data("50% done\\nnext")
    '50%25 done%0Anext'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property (``file=``, ``title=`` …).

    >>> escape_property("a:b,c")
    'a%3Ab%2Cc'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(report: Report, context: RenderContext) -> list[str]:
    """The ``::error …::message`` lines, in the report's order."""
    lines = []
    for result, referrer in referrer_pairs(report.results):
        code = result.diagnosis.code if result.diagnosis else result.category.value
        why = result.diagnosis.summary if result.diagnosis else result.error_message or "broken"
        props = []
        message = f"{result.url} [{status_text(result)}]: {why}"
        path = context.source_path(referrer.url) if referrer else None
        if path is not None and referrer is not None:
            props.append(f"file={escape_property(path)}")
            if referrer.line:
                props.append(f"line={referrer.line}")
        elif referrer is not None:
            message += f" (on {referrer.url})"
        props.append(f"title={escape_property(f'Broken link ({code})')}")
        lines.append(f"::error {','.join(props)}::{escape_data(message)}")
    for item in report.summary.left_out:  # what the run left out on purpose: one warning per group
        title = escape_property(f"Left out ({item.code})")
        lines.append(f"::warning title={title}::{escape_data(item.line())}")
    return lines


def write_github(report: Report, out: TextIO, context: RenderContext) -> None:
    for line in annotation_lines(report, context):
        out.write(line + "\n")
