"""The monitor's side of problem grouping: stored results and a scan's fresh results grouped by
:mod:`linkdoctor.problems` (the one grouping every report uses), turned into the :class:`ScanProblem`
values the dashboard, the API and the alerts show, which :mod:`linkdoctor.monitor.diff` compares between two scans; :func:`by_target` gathers the missing
anchors of one page for display.

>>> from linkdoctor.models import Category, CheckResult, Referrer
>>> gone = [CheckResult(f"https://e.org/old.html#s{i}", Category.BROKEN, 404,
...                     referrers=(Referrer(f"https://e.org/p{i}.html", i),)) for i in range(3)]
>>> [(p.url, p.links, p.pages) for p in views(group_problems(gone))]
[('https://e.org/old.html', 3, 3)]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkdoctor.models import Category, CheckResult, ErrorKind
from linkdoctor.monitor.convert import stored_result
from linkdoctor.monitor.model import ScanProblem, ScanProblems, StoredResult
from linkdoctor.monitor.orm import ResultRow
from linkdoctor.problems import (
    PROBLEM_CATEGORIES,
    Problem,
    ProblemKind,
    count_problems,
    group_problems,
    headline,
    problem_key,
)

_CATEGORIES: Final = tuple(c.value for c in PROBLEM_CATEGORIES)
# Results are read as plain rows of the table, not as ORM objects: a big scan's problems are tens of
# thousands of results, read once and never changed.
_RESULTS: Final = ResultRow.__table__
_ID_CHUNK: Final = 500  # ids per IN (...) list: well under SQLite's and PostgreSQL's parameter limits


def view(problem: Problem) -> ScanProblem:
    """The monitor's value of one grouped problem."""
    return ScanProblem(
        id=problem.id,
        key=problem.key,
        kind=problem.kind,
        label=problem.label,
        target=problem.target,
        anchor=problem.anchor,
        url=problem.url,
        category=problem.category,
        code=problem.code,
        status=problem.result.precise_status or problem.result.status,
        cause=problem.cause,
        fix=problem.fix,
        links=problem.links,
        pages=problem.pages,
        found_on=tuple(problem.locations),
    )


def views(problems: Iterable[Problem]) -> tuple[ScanProblem, ...]:
    return tuple(view(p) for p in problems)


def as_check_result(stored: StoredResult) -> CheckResult:
    """A stored result as the check result the grouping reads (no redirects or findings: not needed)."""
    error = None
    if stored.error:
        try:
            error = ErrorKind(stored.error)
        except ValueError:
            error = ErrorKind.OTHER
    return CheckResult(
        url=stored.url,
        category=stored.category,
        status=stored.status,
        reason=stored.reason,
        precise_status=stored.precise_status,
        final_url=stored.final_url,
        error=error,
        error_message=stored.error_message,
        diagnosis=stored.diagnosis,
        referrers=stored.referrers,
    )


def stored_problems(s: Session, scan_id: int) -> tuple[Problem, ...]:
    """The problems of a stored scan, grouped from its broken and unverified results (in an open session)."""
    rows = s.execute(
        select(_RESULTS)
        .where(ResultRow.scan_id == scan_id, ResultRow.category.in_(_CATEGORIES))
        .order_by(ResultRow.category, ResultRow.id)
    )
    return tuple(group_problems(as_check_result(stored_result(row)) for row in rows))


def stored_keys(s: Session, scan_id: int) -> dict[str, list[int]]:
    """The problem keys of a stored scan, each with the ids of the results it groups: what a later scan
    compares with, read without the referrers (see :func:`problems_of`)."""
    rows = s.execute(
        select(ResultRow.id, ResultRow.url, ResultRow.category, ResultRow.diagnosis_code).where(
            ResultRow.scan_id == scan_id, ResultRow.category.in_(_CATEGORIES)
        )
    )
    keys: dict[str, list[int]] = {}
    for row_id, url, category, code in rows:
        keys.setdefault(problem_key(url, Category(category), code), []).append(row_id)
    return keys


def problems_of(s: Session, keys: Mapping[str, Sequence[int]], wanted: Iterable[str]) -> tuple[Problem, ...]:
    """The problems of the ``wanted`` keys of :func:`stored_keys`, whole (their results read with their
    referrers, a chunk of ids at a time), most pages affected first; ties in the order
    :func:`stored_problems` reads them (by category, then as stored)."""
    ids = [row_id for key in wanted for row_id in keys.get(key, ())]
    rows = [
        row
        for start in range(0, len(ids), _ID_CHUNK)
        for row in s.execute(select(_RESULTS).where(ResultRow.id.in_(ids[start : start + _ID_CHUNK])))
    ]
    rows.sort(key=lambda row: (row.category, row.id))
    return tuple(group_problems(as_check_result(stored_result(row)) for row in rows))


def summarize(scan_id: int, problems: Sequence[Problem]) -> ScanProblems:
    """A scan's problems with their headline counts and sentence."""
    counts = count_problems(problems)
    return ScanProblems(scan_id, counts, headline(counts), views(problems))


def scan_problems(s: Session, scan_id: int) -> ScanProblems:
    """:func:`summarize` of a stored scan (in an open session)."""
    return summarize(scan_id, stored_problems(s, scan_id))


@dataclass(frozen=True, slots=True)
class TargetGroup:
    """What one item of a problem list shows: a document problem alone, or the missing anchors of one
    target page together (``2 missing anchors on /guide.html``)."""

    target: str
    anchors: bool
    problems: tuple[ScanProblem, ...]


def by_target(problems: Sequence[ScanProblem]) -> list[TargetGroup]:
    """``problems`` for display, in their order (most pages affected first), each target page's missing
    anchors gathered where the first of them comes."""
    groups: list[TargetGroup] = []
    anchors: dict[str, list[ScanProblem]] = {}
    for problem in problems:
        if problem.kind is ProblemKind.ANCHOR:
            if problem.target not in anchors:
                anchors[problem.target] = []
                groups.append(TargetGroup(problem.target, True, ()))
            anchors[problem.target].append(problem)
        else:
            groups.append(TargetGroup(problem.target, False, (problem,)))
    return [replace(g, problems=tuple(anchors[g.target])) if g.anchors else g for g in groups]
