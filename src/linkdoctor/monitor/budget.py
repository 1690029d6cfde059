"""The daily budget ledger: the link checks each site's scan runs were charged in the last
:data:`~linkdoctor.monitor.model.BUDGET_WINDOW`, what is left of the site's budget, and when checks come
back. Runs are charged as they go (see :mod:`~linkdoctor.monitor.checkpoints`), so a run that was killed
counts too.

>>> # budget = of_site(db, site_id, daily=1500, now=db.now()); budget.left, budget.frees_at
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import BUDGET_WINDOW, Budget
from linkdoctor.monitor.orm import ScanRunRow


def of_site(db: Sessions, site_id: int, *, daily: int, now: datetime) -> Budget:
    """The site's budget at ``now``."""
    return of_sites(db, {site_id: daily}, now=now)[site_id]


def of_sites(db: Sessions, daily: dict[int, int], *, now: datetime) -> dict[int, Budget]:
    """The budgets of several sites (site id → daily budget) in one query."""
    with db.read() as s:
        return in_session(s, daily, now=now)


def in_session(s: Session, daily: dict[int, int], *, now: datetime) -> dict[int, Budget]:
    """:func:`of_sites` in an open session (a store that reads sites and their budgets together)."""
    rows = s.execute(
        select(ScanRunRow.site_id, func.sum(ScanRunRow.checks), func.min(ScanRunRow.started_at))
        .where(ScanRunRow.site_id.in_(sorted(daily)), ScanRunRow.started_at > now - BUDGET_WINDOW)
        .where(ScanRunRow.checks > 0)
        .group_by(ScanRunRow.site_id)
    ).all()
    used = {site_id: (int(checks or 0), oldest) for site_id, checks, oldest in rows}
    budgets = {}
    for site_id, allowed in daily.items():
        checks, oldest = used.get(site_id, (0, None))
        budgets[site_id] = Budget(allowed, checks, None if oldest is None else oldest + BUDGET_WINDOW)
    return budgets
