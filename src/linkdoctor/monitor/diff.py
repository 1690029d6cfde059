"""Compare a scan with the site's previous finished scan. :func:`compare` sorts links (keyed by URL) into new
broken, fixed, still broken and new redirects; :func:`compare_problems` sorts problems (one per target
document and cause, see :mod:`linkdoctor.problems`) into new, still there and fixed. Pure functions.

A problem is new only when the previous scan had no problem with its key (kind, code and URL): a site that
did not change has no new problems, however many ``#fragment`` links point at its one missing page.

>>> from linkdoctor.models import Category
>>> before = {"https://a.example/x": DiffEntry("https://a.example/x", Category.BROKEN, 404, "", None)}
>>> after = {"https://a.example/x": DiffEntry("https://a.example/x", Category.OK, 200, "", None)}
>>> [e.url for e in compare(1, 2, before, after).fixed]
['https://a.example/x']
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from linkdoctor.models import Category
from linkdoctor.monitor.model import DiffEntry, ScanDiff, ScanProblem


def compare(
    scan_id: int,
    previous_scan_id: int | None,
    previous: Mapping[str, DiffEntry],
    current: Mapping[str, DiffEntry],
) -> ScanDiff:
    """Sort ``current`` against ``previous``. A link that is gone from the site is not listed: it is
    neither fixed nor broken any more. Each list is sorted by URL."""
    new_broken: list[DiffEntry] = []
    fixed: list[DiffEntry] = []
    still_broken: list[DiffEntry] = []
    new_redirects: list[DiffEntry] = []
    for url in sorted(current):
        entry = current[url]
        before = previous.get(url)
        was_broken = before is not None and before.category is Category.BROKEN
        if entry.category is Category.BROKEN:
            (still_broken if was_broken else new_broken).append(entry)
        elif was_broken:
            fixed.append(entry)
        if entry.category is Category.REDIRECTED and (
            before is None
            or before.category is not Category.REDIRECTED
            or before.final_url != entry.final_url
        ):
            new_redirects.append(entry)
    return ScanDiff(
        scan_id=scan_id,
        previous_scan_id=previous_scan_id,
        new_broken=tuple(new_broken),
        fixed=tuple(fixed),
        still_broken=tuple(still_broken),
        new_redirects=tuple(new_redirects),
    )


def compare_problems(
    current: Sequence[ScanProblem], previous: Collection[str]
) -> tuple[tuple[ScanProblem, ...], tuple[ScanProblem, ...], tuple[str, ...]]:
    """(new, still, gone): the current problems whose key the ``previous`` scan's keys lack, those it has
    (as they are now), both in the order given (most pages first); and the previous keys gone now, whose
    problems the caller reads whole only if it shows them (a stored scan's referrers are its bulk)."""
    now = {p.key for p in current}
    new = tuple(p for p in current if p.key not in previous)
    still = tuple(p for p in current if p.key in previous)
    return new, still, tuple(key for key in previous if key not in now)
