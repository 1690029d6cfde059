"""Markdown output, shaped for GitHub's job summary and issue bodies (GitHub Flavored Markdown).

A headline with the counts, then broken (and unverified) links grouped by the page they are on and,
within a page, by diagnosis: one table per group, with the fix steps folded in ``<details>``.
Everything that comes from crawled pages is escaped, so a link text cannot inject markup.

    write_markdown(report, sys.stdout, RenderContext())
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import TextIO

from linkdoctor.classify import codes
from linkdoctor.models import Category, CheckResult, Referrer, Report
from linkdoctor.options import TOOL_NAME
from linkdoctor.report.context import (
    NO_REFERRER,
    RenderContext,
    diagnosis_code,
    diagnosis_title,
    referrer_pairs,
    status_text,
)

_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_SECTIONS = ((Category.BROKEN, "Broken links"), (Category.UNVERIFIED, "Unverified links"))


def escape(text: str) -> str:
    """Plain text for a Markdown table cell: markup characters escaped, HTML neutralised, one line.

    >>> escape("a|b <i>")
    'a\\\\|b &lt;i&gt;'
    """
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def code_span(text: str) -> str:
    """``text`` as an inline code span that survives backticks and table pipes.

    >>> code_span("a`b")
    '`` a`b ``'
    """
    text = " ".join(text.split()).replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _headline(report: Report) -> list[str]:
    s = report.summary
    verdict = f"❌ {s.broken} broken link{'s' if s.broken != 1 else ''}" if s.broken else "✅ no broken links"
    return [
        f"## {TOOL_NAME}: {verdict}",
        "",
        "| Links | OK | Redirected | Broken | Unverified | Excluded | Pages | Time |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {s.total} | {s.ok} | {s.redirected} | {s.broken} | {s.unverified} | {s.excluded} "
        f"| {s.pages_crawled} | {s.elapsed_s:.1f} s |",
    ]


def _group_fix(code: str, results: list[CheckResult]) -> tuple[str, ...]:
    entry = codes.CODES.get(code)
    if entry is not None:
        return entry.fix
    first = results[0].diagnosis
    return first.fix if first else ()


def _group(code: str, rows: list[tuple[CheckResult, Referrer | None]]) -> list[str]:
    lines = [f"**{code_span(code)}** — {escape(diagnosis_title(code))}", ""]
    lines += ["| Line | Link | Text | Status | Why |", "|---:|---|---|---|---|"]
    for result, referrer in rows:
        line = str(referrer.line) if referrer and referrer.line else ""
        text = escape(referrer.text) if referrer else ""
        why = result.diagnosis.summary if result.diagnosis else result.error_message
        lines.append(
            f"| {line} | {code_span(result.url)} | {text} | {escape(status_text(result))} | {escape(why)} |"
        )
    fix = _group_fix(code, [result for result, _ in rows])
    if fix:
        lines += ["", "<details><summary>How to fix</summary>", ""]
        lines += [f"{number}. {escape(step)}" for number, step in enumerate(fix, start=1)]
        lines += ["", "</details>"]
    return [*lines, ""]


def _section(report: Report, context: RenderContext, category: Category, title: str) -> list[str]:
    pages: dict[str, dict[str, list[tuple[CheckResult, Referrer | None]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for result, referrer in referrer_pairs(report.results, (category,)):
        page = context.page_label(referrer.url) if referrer else NO_REFERRER
        pages[page][diagnosis_code(result)].append((result, referrer))
    if not pages:
        return []
    lines = [f"### {title}", ""]
    for page in sorted(pages):
        lines += [f"#### {code_span(page)}", ""]
        for code in sorted(pages[page]):
            rows = sorted(
                pages[page][code], key=lambda pair: ((pair[1].line or 0) if pair[1] else 0, pair[0].url)
            )
            lines += _group(code, rows)
    return lines


def render_markdown(report: Report, context: RenderContext) -> str:
    """The whole report as one Markdown document."""
    lines = _headline(report)
    lines.append("")
    for category, title in _SECTIONS:
        lines += _section(report, context, category, title)
    if report.summary.warnings:
        lines += ["### Warnings", ""]
        lines += [f"- {escape(warning)}" for warning in report.summary.warnings]
        lines.append("")
    if report.summary.left_out:
        lines += ["### Left out", ""]
        lines += [
            f"- {code_span(item.code)}: {item.count:,} {escape(item.detail)}"
            + (f" (e.g. {code_span(item.examples[0])})" if item.examples else "")
            for item in report.summary.left_out
        ]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def write_markdown(report: Report, out: TextIO, context: RenderContext) -> None:
    out.write(render_markdown(report, context))
