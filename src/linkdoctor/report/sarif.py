"""SARIF 2.1.0 output, for code-scanning UIs (GitHub code scanning, VS Code's SARIF viewer, GitLab).

Each problem (:mod:`linkdoctor.problems`) is one result per place that links to it: ``error`` for a
broken link, ``warning`` for one that could not be verified. When the page is a local file (a ``file://``
URL, or a ``--base-url`` URL mapped from a file), the result is located at that file and line, relative to
``%SRCROOT%`` (the repository, or the context's root) when under it; a remote page is located by its URL.
The message gives the link as the page wrote it. Rule ids are the diagnosis codes, with help from
``linkdoctor explain``'s catalogue.

    json.dumps(report_to_sarif(report, RenderContext(sites=inputs.sites, root=Path.cwd())))
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import PurePosixPath
from typing import Any, Final, TextIO
from urllib.parse import quote

from linkdoctor.classify import codes
from linkdoctor.models import Category, CheckResult, LeftOut, Report
from linkdoctor.problems import START_URL, Location, Problem, group_problems
from linkdoctor.report.context import RenderContext, link_as_written, status_text
from linkdoctor.report.sarif_log import sarif_log

SRCROOT: Final = "%SRCROOT%"
UNDIAGNOSED: Final = "link.broken"
_OK: Final = Category.OK


def _rule(code: str, sample: CheckResult) -> dict[str, Any]:
    entry = codes.CODES.get(code)
    level = "error" if sample.category is Category.BROKEN else "warning"
    if entry is None:
        summary = sample.diagnosis.summary if sample.diagnosis else "The link is broken."
        return {
            "id": code,
            "shortDescription": {"text": summary},
            "defaultConfiguration": {"level": level},
        }
    steps = "\n".join(f"{number}. {step}" for number, step in enumerate(entry.fix, start=1))
    return {
        "id": entry.code,
        "name": "".join(part.capitalize() for part in entry.code.replace(".", "-").split("-")),
        "shortDescription": {"text": entry.title},
        "fullDescription": {"text": entry.summary},
        "help": {
            "text": "\n".join((entry.explanation, "", "How to fix:", *entry.fix)),
            "markdown": f"{entry.explanation}\n\n**How to fix**\n\n{steps}\n\n"
            f"`linkdoctor explain {entry.code}` prints this entry.",
        },
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["links", entry.code.split(".", 1)[0]], "actor": entry.actor},
    }


def _location(loc: Location, context: RenderContext) -> dict[str, Any]:
    path = context.repo_file(loc.page)
    if path is None:
        artifact: dict[str, Any] = {"uri": loc.page}
    elif path.is_absolute():
        artifact = {"uri": path.as_uri()}
    else:  # the name's bytes percent-encoded, whatever their encoding
        artifact = {"uri": quote(bytes(PurePosixPath(path))), "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if loc.line:
        physical["region"] = {"startLine": loc.line}
    return {"physicalLocation": physical}


def _fingerprint(problem: Problem, loc: Location) -> str:
    # Stable across runs and line moves, so code scanning keeps one alert per problem, page and link.
    key = "\0".join((problem.code, loc.link(problem.target), loc.page))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[
        :32
    ]  # a URL may hold a lone surrogate


def _message(problem: Problem, loc: Location, written: str) -> str:
    text = f" ({loc.text})" if loc.text else ""
    target = f" → {problem.url}" if written != problem.url else ""
    status = status_text(problem.result)
    return f"{problem.label.capitalize()}: {written}{text}{target} [{status}]: {problem.cause}"


def _left_out_result(item: LeftOut, index: int) -> dict[str, Any]:
    """A warning for one group the run left out (a trap, a cap, a budget, cut pages), located at its examples."""
    return {
        "ruleId": item.code,
        "ruleIndex": index,
        "level": "warning",
        "message": {"text": f"Left out: {item.line()}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": url}}} for url in item.examples[:1]],
        "partialFingerprints": {"linkdoctorLink/v1": hashlib.sha256(item.code.encode()).hexdigest()[:32]},
        "properties": {"count": item.count, "examples": list(item.examples)},
    }


def report_to_sarif(report: Report, context: RenderContext) -> dict[str, Any]:
    """A SARIF log with one run: the rules that occur (sorted by id), one result per problem and referring
    place, and one warning per group of what the run left out (``Summary.left_out``)."""
    problems = group_problems(report.results)
    rules, index = _rules(problems, report.summary.left_out)
    results = [*_results(problems, index, context)]
    results += [_left_out_result(item, index[item.code]) for item in report.summary.left_out]
    return sarif_log(
        tool_version=context.tool_version,
        rules=rules,
        run={"columnKind": "unicodeCodePoints", "results": results},
    )


def write_sarif(report: Report, out: TextIO, context: RenderContext) -> None:
    """:func:`report_to_sarif`'s log, indented, as ``json.dump`` writes it, with its results written one at
    a time: a problem on every page of a huge site is a result per page, read as it is written."""
    problems = group_problems(report.results)
    rules, index = _rules(problems, report.summary.left_out)
    mark = f"\ue000{secrets.token_hex(8)}"  # no page can hold it: it is new for every run
    log = sarif_log(
        tool_version=context.tool_version,
        rules=rules,
        run={"columnKind": "unicodeCodePoints", "results": mark},
    )
    head, _, tail = json.dumps(log, indent=2, ensure_ascii=False).partition(
        json.dumps(mark, ensure_ascii=False)
    )
    out.write(head)
    outer = head[head.rindex("\n") + 1 :]
    inner = "\n" + " " * (len(outer) - len(outer.lstrip(" ")) + 2)  # the results' items, one level in
    separator = "[" + inner
    left_out = (_left_out_result(item, index[item.code]) for item in report.summary.left_out)
    for entry in chain(_results(problems, index, context), left_out):
        out.write(separator)
        out.write(json.dumps(entry, indent=2, ensure_ascii=False).replace("\n", inner))
        separator = "," + inner
    out.write("[]" if separator.startswith("[") else inner[:-2] + "]")
    out.write(tail + "\n")


def _rules(
    problems: Sequence[Problem], left_out: Sequence[LeftOut]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rules that occur, sorted by id, and each one's index."""
    samples: dict[str, CheckResult] = {}
    for problem in problems:
        samples.setdefault(_rule_id(problem), problem.result)
    for item in left_out:
        samples.setdefault(item.code, CheckResult(item.examples[0] if item.examples else "", _OK))
    rule_ids = sorted(samples)
    return [_rule(code, samples[code]) for code in rule_ids], {code: i for i, code in enumerate(rule_ids)}


def _results(
    problems: Sequence[Problem], index: dict[str, int], context: RenderContext
) -> Iterator[dict[str, Any]]:
    """One result per problem and referring place, in the problems' order."""
    for problem in problems:
        code = _rule_id(problem)
        level = "error" if problem.category is Category.BROKEN else "warning"
        for loc in problem.locations:
            listed = loc.page != START_URL
            url = loc.link(problem.target)
            written = link_as_written(loc.page, url) if listed else url
            yield {
                "ruleId": code,
                "ruleIndex": index[code],
                "level": level,
                "message": {"text": _message(problem, loc, written)},
                "locations": [_location(loc, context)] if listed else [],
                "partialFingerprints": {"linkdoctorLink/v1": _fingerprint(problem, loc)},
                "properties": {
                    "url": url,
                    "link": written,
                    "target": problem.target,
                    "problem": problem.id,
                    "status": problem.result.status,
                    "preciseStatus": problem.result.precise_status,
                    "category": problem.category.value,
                    "fix": list(problem.fix),
                },
            }


def _rule_id(problem: Problem) -> str:
    return problem.result.diagnosis.code if problem.result.diagnosis else UNDIAGNOSED
