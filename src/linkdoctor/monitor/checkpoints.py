"""A running scan's checkpoints in the database: the run's checks charged to the site's budget and the
frontier it resumes from, saved while the run goes on so that a ``kill -9`` loses at most one interval.

A checkpoint is written only by the holder of the scan's lease (compare-and-set on the owner, in one
transaction with the charge), and it renews the lease too. The run's row in ``scan_runs`` is the budget
ledger: :func:`charge` moves it to the run's checks so far and adds the difference to the scan's
``budget_used``, so a checkpoint and the final commit never count a check twice.

>>> # saved = save(db, scan_id, owner, run_id, checkpoint, lease=timedelta(seconds=20))
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from linkdoctor.monitor.db import Sessions
from linkdoctor.monitor.model import ScanState
from linkdoctor.monitor.orm import ScanRow, ScanRunRow
from linkdoctor.monitor.scan import Checkpoint


def save(
    db: Sessions, scan_id: int, owner: str, run_id: int, checkpoint: Checkpoint, *, lease: timedelta
) -> bool:
    """Store the checkpoint of ``owner``'s run of the scan; False (nothing written) when ``owner`` no longer
    holds the scan. Progress also clears the scan's interruption count: a scan that gets on is not stuck."""
    frontier = checkpoint.frontier.to_json()  # before the transaction: it can take a while on a big site
    with db.session() as s:
        scan = s.get(ScanRow, scan_id, with_for_update=True)
        if scan is None or scan.lease_owner != owner or scan.state != ScanState.RUNNING.value:
            return False
        charge(s, scan, run_id, checkpoint.checks)
        scan.frontier = frontier
        scan.interrupted = 0
        scan.lease_expires_at = db.now() + lease
    return True


def charge(s: Session, scan: ScanRow, run_id: int, checks: int) -> None:
    """Record that the run has made ``checks`` link checks so far (in the open transaction ``s``)."""
    run = s.get(ScanRunRow, run_id)
    assert run is not None
    scan.budget_used += checks - (run.checks or 0)
    run.checks = checks
