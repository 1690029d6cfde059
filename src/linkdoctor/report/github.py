"""GitHub Actions workflow commands: one annotation per problem and referring place (``::error`` for a
broken link, ``::warning`` for one that could not be verified), problems most pages affected first.

When the page is a local file the annotation sits at its file, relative to the repository, and line, so
GitHub shows it in the pull request's diff; otherwise it names the page. The message gives the link as
the page wrote it, the problem's target and its cause. Values are escaped as the runner expects
(``%``, CR, LF, and in properties also ``:`` and ``,``), so link texts cannot forge commands.

    write_github(report, sys.stdout, RenderContext(sites=inputs.sites, root=Path.cwd()))
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TextIO

from linkdoctor.models import Category, Report
from linkdoctor.printable import shown
from linkdoctor.problems import START_URL, group_problems
from linkdoctor.report.context import RenderContext, link_as_written, status_text


def escape_data(text: str) -> str:
    """Escape a command's message (a control character shown as ``\\xNN``: a CI log runs ANSI sequences).

    >>> escape_data("50% done\\nnext\\x1b[31m")
    '50%25 done%0Anext\\\\x1b[31m'
    """
    return shown(text, newlines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a command property (``file=``, ``title=`` …).

    >>> escape_property("a:b,c")
    'a%3Ab%2Cc'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation_lines(report: Report, context: RenderContext) -> Iterator[str]:
    """The ``::error …::message`` lines, one per (problem, referring place), made as they are read."""
    for problem in group_problems(report.results):
        level = "error" if problem.category is Category.BROKEN else "warning"
        title = escape_property(f"{problem.label.capitalize()} ({problem.code})")
        status = status_text(problem.result)
        for loc in problem.locations:
            listed = loc.page != START_URL
            url = loc.link(problem.target)
            written = link_as_written(loc.page, url) if listed else url
            target = f" → {problem.url}" if written != problem.url else ""
            message = f"{written}{target} [{status}]: {problem.cause}"
            props = []
            path = context.repo_path(loc.page) if listed else None
            if path is not None:
                props.append(f"file={escape_property(path)}")
                if loc.line:
                    props.append(f"line={loc.line}")
            elif listed:
                message += f" (on {loc.page}" + (f" line {loc.line})" if loc.line else ")")
            props.append(f"title={title}")
            yield f"::{level} {','.join(props)}::{escape_data(message)}"
    for item in report.summary.left_out:  # what the run left out on purpose: one warning per group
        title = escape_property(f"Left out ({item.code})")
        yield f"::warning title={title}::{escape_data(item.line())}"


def write_github(report: Report, out: TextIO, context: RenderContext) -> None:
    for line in annotation_lines(report, context):
        out.write(line + "\n")
