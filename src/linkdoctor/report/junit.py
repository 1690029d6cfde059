"""JUnit XML output, so CI test UIs (GitLab, Jenkins, Azure, GitHub test reporters) list every problem.

Each problem (:mod:`linkdoctor.problems`, most pages affected first) is a ``<testsuite>``; each place that
links to it is a ``<testcase>`` named by the link and its line, its class the referring page. A broken
link is a ``<failure>`` typed by its diagnosis code, one that could not be verified is ``<skipped>``; links
that work are counted in the summary, not listed. The shape follows the common Jenkins/Ant JUnit schema.

    write_junit(report, sys.stdout, RenderContext())
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from itertools import chain, repeat
from typing import TextIO

from linkdoctor import scratch
from linkdoctor.models import Category, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.problems import START_URL, Location, Problem, group_problems
from linkdoctor.report.context import NO_REFERRER, RenderContext, status_text

LEFT_OUT = "(left out)"
# XML 1.0 cannot carry most control characters, even escaped; pages we crawl may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _details(problem: Problem, loc: Location, page: str) -> str:
    result = problem.result
    url = loc.link(problem.target)
    lines = [f"URL: {url}", f"Status: {status_text(result)}"]
    if url != problem.url:
        lines.append(f"Target: {problem.url}")
    if result.final_url and result.final_url != problem.url:
        lines.append(f"Final URL: {result.final_url}")
    where = f"{page} line {loc.line}" if loc.line else page
    lines.append(f"Found on: {where}" + (f" ({loc.text})" if loc.text else ""))
    if result.error_message:
        lines.append(f"Error: {result.error_message}")
    if result.diagnosis:
        lines.append(f"Diagnosis: {result.diagnosis.code}: {result.diagnosis.summary}")
        lines.extend(f"Fix: {step}" for step in result.diagnosis.fix)
    for finding in result.findings:
        lines.append(f"Finding {finding.code} ({finding.actor}): {finding.summary}")
    return "\n".join(lines)


def _testcase(problem: Problem, loc: Location, page: str) -> ET.Element:
    result = problem.result
    url = loc.link(problem.target)
    name = url if loc.line is None else f"{url} (line {loc.line})"
    case = ET.Element(
        "testcase",
        {"name": _clean(name), "classname": _clean(page), "time": _seconds(result.elapsed_ms / 1000)},
    )
    if problem.category is Category.BROKEN:
        failure = ET.SubElement(case, "failure", {"message": _clean(problem.cause), "type": problem.code})
        failure.text = _clean(_details(problem, loc, page))
    else:
        ET.SubElement(case, "skipped", {"message": _clean(f"{problem.category.value}: {problem.cause}")})
    return case


def _suite(name: str, cases: list[ET.Element]) -> ET.Element:
    def count(tag: str) -> int:
        return sum(1 for case in cases if case.find(tag) is not None)

    total_time = sum(float(case.get("time", "0")) for case in cases)
    suite = _suite_element(name, len(cases), count("failure"), count("skipped"), total_time)
    suite.extend(cases)
    return suite


def _suite_element(name: str, tests: int, failures: int, skipped: int, time: float) -> ET.Element:
    return ET.Element(
        "testsuite",
        {
            "name": _clean(name),
            "tests": str(tests),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(skipped),
            "time": _seconds(time),
        },
    )


def _problem_suite(problem: Problem) -> ET.Element:
    """A problem's ``<testsuite>``, without its cases: they are all alike (one result), counted here."""
    tests = len(problem.locations)
    failures = tests if problem.category is Category.BROKEN else 0
    case_time = float(_seconds(problem.result.elapsed_ms / 1000))
    total = sum(repeat(case_time, tests))  # added up as the cases' times are (by sum), to the same float
    return _suite_element(f"{problem.label}: {problem.url}", tests, failures, tests - failures, total)


def _cases(problem: Problem, context: RenderContext) -> Iterator[ET.Element]:
    for loc in problem.locations:
        yield _testcase(problem, loc, context.page_label(loc.page) if loc.page != START_URL else NO_REFERRER)


def _left_out_suite(report: Report) -> ET.Element | None:
    """What the run left out on purpose: a suite with one skipped case per group."""
    if not report.summary.left_out:
        return None
    cases = []
    for item in report.summary.left_out:
        case = ET.Element("testcase", {"name": _clean(item.code), "classname": LEFT_OUT, "time": "0.000"})
        ET.SubElement(case, "skipped", {"message": _clean(item.line())})
        cases.append(case)
    return _suite(LEFT_OUT, cases)


def _root(report: Report, suites: Iterable[ET.Element]) -> ET.Element:
    """The ``<testsuites>`` element, its counts those of ``suites``; without them."""
    tests = failures = 0
    for suite in suites:
        tests += int(suite.get("tests", "0"))
        failures += int(suite.get("failures", "0"))
    attributes = {
        "name": TOOL_NAME,
        "tests": str(tests),
        "failures": str(failures),
        "errors": "0",
        "time": _seconds(report.summary.elapsed_s),
    }
    return ET.Element("testsuites", attributes)


def build_junit(report: Report, context: RenderContext) -> ET.Element:
    """The ``<testsuites>`` element: one suite per problem, a case per referring place in page order."""
    suites = []
    for problem in group_problems(report.results):
        suite = _problem_suite(problem)
        suite.extend(_cases(problem, context))
        suites.append(suite)
    left_out = _left_out_suite(report)
    if left_out is not None:
        suites.append(left_out)
    root = _root(report, suites)
    root.extend(suites)
    return root


def write_junit(report: Report, out: TextIO, context: RenderContext) -> None:
    """:func:`build_junit`'s document, indented as ``ET.indent`` does, written about
    :data:`~linkdoctor.scratch.PIECE` cases at a time: a problem on every page of a huge site is a case per
    page, read as it is written."""
    problems = group_problems(report.results)
    left_out = _left_out_suite(report)
    suites = [] if left_out is None else [left_out]
    root = _root(report, chain((_problem_suite(p) for p in problems), suites))
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    if not problems and left_out is None:
        out.write(ET.tostring(root, encoding="unicode") + "\n")
        return
    open_tag = _open_tag(root)
    out.write(open_tag)
    batch = ET.Element(root.tag, root.attrib)  # whole suites, serialised together
    cases = 0

    def flush() -> None:
        nonlocal batch, cases
        if len(batch):
            ET.indent(batch)
            out.write(ET.tostring(batch, encoding="unicode")[len(open_tag) : -len("\n</testsuites>")])
            batch, cases = ET.Element(root.tag, root.attrib), 0

    for problem in problems:
        suite = _problem_suite(problem)
        if len(problem.locations) > scratch.PIECE:  # its cases a piece at a time
            flush()
            _write_suite(out, suite, _cases(problem, context))
            continue
        suite.extend(_cases(problem, context))
        batch.append(suite)
        cases += len(suite)
        if cases >= scratch.PIECE:
            flush()
    batch.extend(suites)
    flush()
    out.write("\n</testsuites>\n")


def _open_tag(element: ET.Element) -> str:
    """``element``'s start tag, as ``ET.tostring`` writes it."""
    return ET.tostring(element, encoding="unicode")[: -len(" />")] + ">"


def _write_suite(out: TextIO, suite: ET.Element, cases: Iterable[ET.Element]) -> None:
    """``suite`` with ``cases``, as ``ET.indent`` and ``ET.tostring`` write it in its document, serialised
    :data:`~linkdoctor.scratch.PIECE` cases at a time (most problems: the whole suite at once)."""
    open_tag = _open_tag(suite)
    written = False
    for piece in scratch.pieces(cases):
        container = ET.Element(suite.tag, suite.attrib)
        container.extend(piece)
        ET.indent(container, level=1)
        text = ET.tostring(container, encoding="unicode")
        # Between the start tag and the end tag: each case after its indentation, the last one's "\n  " cut.
        out.write(("" if written else "\n  " + open_tag) + text[len(open_tag) : -len("\n  </testsuite>")])
        written = True
    out.write("\n  </testsuite>" if written else "\n  " + ET.tostring(suite, encoding="unicode"))
