"""Retention: raw results are kept for the newest N finished scans of each site; older scans keep their
row and counts (the history) but lose their per-link results, and their alerts once those were sent or
given up on (an alert still being retried stays). Daily counts are never pruned."""

from __future__ import annotations

from sqlalchemy import delete, select

from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import ScanState
from linkdoctor.monitor.orm import AlertRow, ResultRow, ScanRow


def prune(db: Sessions, site_id: int, *, keep: int) -> int:
    """Delete the results of all but the newest ``keep`` finished scans of the site; returns scans pruned."""
    with db.session() as s:
        finished = s.scalars(
            select(ScanRow.id)
            .where(
                ScanRow.site_id == site_id, ScanRow.state.in_([ScanState.DONE.value, ScanState.FAILED.value])
            )
            .order_by(ScanRow.id.desc())
        ).all()
        old = list(finished[max(0, keep) :])
        if old:
            s.execute(delete(ResultRow).where(ResultRow.scan_id.in_(old)))
            s.execute(delete(AlertRow).where(AlertRow.scan_id.in_(old), AlertRow.next_attempt_at.is_(None)))
        return len(old)
