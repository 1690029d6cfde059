"""JUnit XML output, so CI test UIs (GitLab, Jenkins, Azure, GitHub test reporters) list every link.

Each referring page is a ``<testsuite>``; each link found on it is a ``<testcase>`` (a link found on
three pages appears in three suites). Broken links are ``<failure>``s typed by their diagnosis code;
unverified and excluded links are ``<skipped>``. The shape follows the common Jenkins/Ant JUnit schema.

    write_junit(report, sys.stdout, RenderContext())
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TextIO

from linkdoctor.models import Category, CheckResult, Referrer, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.report.context import (
    RenderContext,
    no_referrer_label,
    referrer_pairs,
    status_text,
)

LEFT_OUT = "(left out)"
# XML 1.0 cannot carry most control characters, even escaped; pages we crawl may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _details(result: CheckResult, page: str, referrer: Referrer | None) -> str:
    lines = [f"URL: {result.url}", f"Status: {status_text(result)}"]
    if result.final_url and result.final_url != result.url:
        lines.append(f"Final URL: {result.final_url}")
    if referrer is not None:
        where = f"{page} line {referrer.line}" if referrer.line else page
        lines.append(f"Found on: {where}" + (f" ({referrer.text})" if referrer.text else ""))
    if result.error_message:
        lines.append(f"Error: {result.error_message}")
    if result.diagnosis:
        lines.append(f"Diagnosis: {result.diagnosis.code}: {result.diagnosis.summary}")
        lines.extend(f"Fix: {step}" for step in result.diagnosis.fix)
    for finding in result.findings:
        lines.append(f"Finding {finding.code} ({finding.actor}): {finding.summary}")
    return "\n".join(lines)


def _testcase(result: CheckResult, page: str, referrer: Referrer | None) -> ET.Element:
    name = result.url if referrer is None or referrer.line is None else f"{result.url} (line {referrer.line})"
    case = ET.Element(
        "testcase",
        {"name": _clean(name), "classname": _clean(page), "time": _seconds(result.elapsed_ms / 1000)},
    )
    message = result.diagnosis.summary if result.diagnosis else result.error_message or status_text(result)
    if result.category is Category.BROKEN:
        failure = ET.SubElement(
            case,
            "failure",
            {
                "message": _clean(message),
                "type": result.diagnosis.code if result.diagnosis else result.category.value,
            },
        )
        failure.text = _clean(_details(result, page, referrer))
    elif result.category in (Category.UNVERIFIED, Category.EXCLUDED):
        ET.SubElement(case, "skipped", {"message": _clean(f"{result.category.value}: {message}")})
    elif result.category is Category.REDIRECTED:
        out = ET.SubElement(case, "system-out")
        hops = [f"{hop.status} {hop.url}" for hop in result.redirects]
        out.text = _clean("\n".join([*hops, f"final: {result.final_url}"]))
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
    """The ``<testsuites>`` element: one suite per referring page (sorted), cases by line then URL."""
    pages: dict[str, list[tuple[int, str, ET.Element]]] = defaultdict(list)
    for result, referrer in referrer_pairs(report.results, Category):
        page = context.page_label(referrer.url) if referrer else no_referrer_label(result)
        line = (referrer.line or 0) if referrer else 0
        pages[page].append((line, result.url, _testcase(result, page, referrer)))
    suites = [
        _suite(page, [case for *_, case in sorted(pages[page], key=lambda t: t[:2])])
        for page in sorted(pages)
    ]
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
