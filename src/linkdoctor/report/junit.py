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
from typing import TextIO

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
    suite = ET.Element(
        "testsuite",
        {
            "name": _clean(name),
            "tests": str(len(cases)),
            "failures": str(count("failure")),
            "errors": "0",
            "skipped": str(count("skipped")),
            "time": _seconds(total_time),
        },
    )
    suite.extend(cases)
    return suite


def build_junit(report: Report, context: RenderContext) -> ET.Element:
    """The ``<testsuites>`` element: one suite per problem, a case per referring place in page order."""
    suites = []
    for problem in group_problems(report.results):
        cases = [
            _testcase(problem, loc, context.page_label(loc.page) if loc.page != START_URL else NO_REFERRER)
            for loc in problem.locations
        ]
        suites.append(_suite(f"{problem.label}: {problem.url}", cases))
    root = ET.Element(
        "testsuites",
        {
            "name": TOOL_NAME,
            "tests": str(sum(int(s.get("tests", "0")) for s in suites)),
            "failures": str(sum(int(s.get("failures", "0")) for s in suites)),
            "errors": "0",
            "time": _seconds(report.summary.elapsed_s),
        },
    )
    root.extend(suites)
    if report.summary.left_out:  # what the run left out on purpose: one skipped case per group
        cases = []
        for item in report.summary.left_out:
            case = ET.Element("testcase", {"name": _clean(item.code), "classname": LEFT_OUT, "time": "0.000"})
            ET.SubElement(case, "skipped", {"message": _clean(item.line())})
            cases.append(case)
        root.append(_suite(LEFT_OUT, cases))
        root.set("tests", str(int(root.get("tests", "0")) + len(cases)))
    return root


def write_junit(report: Report, out: TextIO, context: RenderContext) -> None:
    root = build_junit(report, context)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
