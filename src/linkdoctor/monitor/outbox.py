"""The alert outbox: a composed alert is stored before it is sent, and retried until it is delivered.

:func:`enqueue` stores the alert in the same transaction that marks the scan as alerted, already claimed
by the caller, who then calls :func:`deliver`. An alert whose delivery fails (a target refused it, the
mail server was down) is tried again by the scheduler's tick (:func:`deliver_due`) after 1, 2, 4 … minutes,
up to :data:`MAX_ATTEMPTS` times in all. A claim (``next_attempt_at`` moved ahead by :data:`CLAIM`) keeps two
processes from sending the same alert; one that dies mid-delivery leaves its claim to expire, so the
alert is tried again: an alert may, rarely, arrive twice, but it is not lost.

>>> backoff(1), backoff(3), backoff(20)
(datetime.timedelta(seconds=60), datetime.timedelta(seconds=240), datetime.timedelta(seconds=21600))
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from linkdoctor.monitor.alerts import Notifier
from linkdoctor.monitor.db import Sessions, rowcount
from linkdoctor.monitor.model import Alert, StoredAlert
from linkdoctor.monitor.orm import AlertRow, SiteRow

log = logging.getLogger("linkdoctor.monitor")

MAX_ATTEMPTS: Final = 8
CLAIM: Final = timedelta(minutes=5)  # how long a delivery in progress holds its alert
_FIRST_RETRY: Final = timedelta(minutes=1)
_LONGEST_WAIT: Final = timedelta(hours=6)
_DUE_PER_TICK: Final = 50


class Delivery(Sessions, Protocol):
    """What delivering needs: the database and the notifier that sends an alert."""

    @property
    def notifier(self) -> Notifier: ...


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed delivery: 1 minute, doubling, at most 6 hours."""
    return min(_FIRST_RETRY * (1 << min(max(0, attempts - 1), 20)), _LONGEST_WAIT)


def enqueue(s: Session, alert: Alert, now: datetime) -> int:
    """Store ``alert`` as claimed by the caller (who delivers it next); returns its id."""
    row = AlertRow(
        site_id=alert.site_id,
        scan_id=alert.scan_id,
        title=alert.title,
        body=alert.body,
        created_at=now,
        attempts=0,
        next_attempt_at=now + CLAIM,
        last_error="",
    )
    s.add(row)
    s.flush()
    return row.id


def deliver(monitor: Delivery, alert_id: int) -> bool:
    """Send a claimed alert to its site's current targets and record how it went; True when sent."""
    with monitor.session() as s:
        row = s.get(AlertRow, alert_id)
        site = s.get(SiteRow, row.site_id) if row is not None else None
        if row is None or site is None or row.sent_at is not None:
            return False
        if not site.notify:  # its targets were removed since: nobody to tell
            row.next_attempt_at, row.last_error = None, "the site has no notification targets any more"
            return False
        alert = Alert(row.site_id, row.scan_id, row.title, row.body, tuple(site.notify))
    error = ""
    try:
        sent = monitor.notifier(alert)
    except Exception as exc:  # a notifier's bug or a target's library error must not lose the alert
        sent = False
        error = f"the notifier raised {type(exc).__name__}"  # its message may carry a target's password
    if not sent and not error:
        error = "a notification target did not accept the alert"
    now = monitor.now()
    with monitor.session() as s:
        row = s.get(AlertRow, alert_id)
        if row is None:
            return sent
        row.attempts += 1
        fields = {"alert_id": row.id, "site_id": row.site_id, "scan_id": row.scan_id, "attempt": row.attempts}
        if sent:
            row.sent_at, row.next_attempt_at, row.last_error = now, None, ""
            log.info("alert %d (%s) sent", row.id, row.title, extra=fields | {"event": "alert.sent"})
        elif row.attempts >= MAX_ATTEMPTS:
            row.next_attempt_at = None
            row.last_error = f"gave up after {row.attempts} attempts: {error}"
            log.error(
                "alert %d (%s) was not delivered: %s",
                row.id,
                row.title,
                row.last_error,
                extra=fields | {"event": "alert.failed", "error": row.last_error},
            )
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            row.last_error = error
            log.warning(
                "alert %d not delivered (attempt %d), retrying: %s",
                row.id,
                row.attempts,
                error,
                extra=fields | {"event": "alert.retrying", "error": error},
            )
    return sent


def deliver_due(monitor: Delivery, now: datetime) -> list[int]:
    """Claim and deliver the alerts whose next attempt is due; returns the ids that were sent."""
    with monitor.session() as s:
        due = [
            (alert_id, seen)
            for alert_id, seen in s.execute(
                select(AlertRow.id, AlertRow.next_attempt_at)
                .where(AlertRow.sent_at.is_(None), AlertRow.next_attempt_at <= now)
                .order_by(AlertRow.id)
                .limit(_DUE_PER_TICK)
            )
            if seen is not None
        ]
    sent = []
    for alert_id, seen in due:
        if _claim(monitor, alert_id, seen, now) and deliver(monitor, alert_id):
            sent.append(alert_id)
    return sent


def pending(db: Sessions) -> list[tuple[int, str, int, str]]:
    """(id, title, attempts, last error) of the alerts not delivered yet or given up on, oldest first."""
    with db.session() as s:
        rows = s.scalars(select(AlertRow).where(AlertRow.sent_at.is_(None)).order_by(AlertRow.id)).all()
        return [(r.id, r.title, r.attempts, r.last_error) for r in rows]


def recent(db: Sessions, site_id: int, *, limit: int = 10) -> list[StoredAlert]:
    """The site's newest ``limit`` alerts, newest first, as they were composed (the dashboard shows them)."""
    with db.read() as s:
        rows = s.scalars(
            select(AlertRow).where(AlertRow.site_id == site_id).order_by(AlertRow.id.desc()).limit(limit)
        ).all()
        return [_stored(r) for r in rows]


def _stored(r: AlertRow) -> StoredAlert:
    return StoredAlert(
        r.id, r.site_id, r.scan_id, r.title, r.body, r.created_at, r.sent_at, r.next_attempt_at,
        r.attempts, r.last_error,
    )  # fmt: skip


def undelivered(db: Sessions) -> tuple[int, int]:
    """How many alerts are not delivered: (still being retried, given up on)."""
    with db.session() as s:
        waiting = s.scalar(
            select(func.count()).where(AlertRow.sent_at.is_(None), AlertRow.next_attempt_at.is_not(None))
        )
        given_up = s.scalar(
            select(func.count()).where(AlertRow.sent_at.is_(None), AlertRow.next_attempt_at.is_(None))
        )
        return int(waiting or 0), int(given_up or 0)


def _claim(db: Sessions, alert_id: int, seen: datetime, now: datetime) -> bool:
    """Move the alert's next attempt ahead, if nobody else did since it was read (compare-and-set)."""
    with db.session() as s:
        won = s.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.next_attempt_at == seen, AlertRow.sent_at.is_(None))
            .values(next_attempt_at=now + CLAIM)
        )
        return rowcount(won) == 1
