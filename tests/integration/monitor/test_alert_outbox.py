"""Alerts are not lost: a composed alert is stored first, a failed delivery is retried by the scheduler's
tick with growing waits, gives up after a bounded number of attempts, and is never sent twice. On SQLite
and PostgreSQL, to a real webhook where it matters."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from tests.integration.monitor.sitekit import Clock
from tests.support.alert_sinks import WebhookSink, webhook_sink

from linkdoctor.monitor import outbox
from linkdoctor.monitor.model import Alert, ScanState, SiteOptions, SiteSpec
from linkdoctor.monitor.orm import AlertRow
from linkdoctor.monitor.service import Monitor


@pytest.fixture
def hook() -> Iterator[WebhookSink]:
    with webhook_sink() as sink:
        yield sink


def failing_site(monitor: Monitor, notify: tuple[str, ...] = ("json://127.0.0.1:9/hook",)) -> int:
    """A site whose scan fails at once (an unset header variable), which always alerts."""
    spec = SiteSpec(
        name="www",
        url="http://127.0.0.1:9/",
        every=None,
        notify=notify,
        options=SiteOptions(headers_env=(("Authorization", "LINKDOCTOR_TEST_UNSET_VARIABLE"),)),
    )
    site = monitor.add_site(spec)
    scan = monitor.run_scan(monitor.request_scan(site.id).id, owner="test")
    assert scan.state is ScanState.FAILED
    return site.id


def open_monitor(db_url: str, clock: Clock, notifier: Callable[[Alert], bool] | None = None) -> Monitor:
    if notifier is None:
        return Monitor.open(db_url, clock=clock)
    return Monitor.open(db_url, clock=clock, notifier=notifier)


def refusing(calls: list[Alert]) -> Callable[[Alert], bool]:
    """A notifier whose targets refuse every alert; ``calls`` collects the attempts."""

    def refuse(alert: Alert) -> bool:
        calls.append(alert)
        return False

    return refuse


def test_a_refused_alert_is_delivered_by_a_later_tick(db_url: str, hook: WebhookSink) -> None:
    clock = Clock()
    monitor = open_monitor(db_url, clock)
    try:
        hook.failures = 1  # the webhook is down for the first attempt
        failing_site(monitor, (hook.apprise_url,))
        assert hook.payloads == []
        [(_, title, attempts, error)] = outbox.pending(monitor)
        assert "failed" in title and attempts == 1 and "did not accept" in error

        clock.advance(timedelta(seconds=30))  # before the first retry is due
        monitor.run_due_scans(owner="test")
        assert hook.payloads == []

        clock.advance(timedelta(seconds=31))
        monitor.run_due_scans(owner="test")
        assert len(hook.payloads) == 1 and "failed" in hook.payloads[0]["title"]
        assert outbox.pending(monitor) == []

        clock.advance(timedelta(hours=1))
        monitor.run_due_scans(owner="test")
        assert len(hook.payloads) == 1  # sent once
    finally:
        monitor.close()


def test_delivery_gives_up_after_the_last_attempt_and_says_why(db_url: str) -> None:
    clock = Clock()
    calls: list[Alert] = []
    monitor = open_monitor(db_url, clock, refusing(calls))
    try:
        failing_site(monitor)
        for attempt in range(1, outbox.MAX_ATTEMPTS + 3):
            clock.advance(outbox.backoff(attempt))
            monitor.run_due_scans(owner="test")
        assert len(calls) == outbox.MAX_ATTEMPTS
        [(_, _, attempts, error)] = outbox.pending(monitor)
        assert attempts == outbox.MAX_ATTEMPTS and error.startswith("gave up after 8 attempts")
    finally:
        monitor.close()


def test_a_notifier_that_raises_keeps_the_alert_and_no_secret_reaches_the_record(db_url: str) -> None:
    clock = Clock()
    raised = [True]

    def flaky(alert: Alert) -> bool:
        if raised[0]:
            raised[0] = False
            raise RuntimeError("cannot reach mailto://user:hunter2@mail.example")
        return True

    monitor = open_monitor(db_url, clock, flaky)
    try:
        failing_site(monitor)
        [(_, _, _, error)] = outbox.pending(monitor)
        assert "RuntimeError" in error and "hunter2" not in error
        clock.advance(outbox.backoff(1))
        monitor.run_due_scans(owner="test")
        assert outbox.pending(monitor) == []
    finally:
        monitor.close()


def test_two_processes_ticking_send_a_due_alert_once(db_url: str) -> None:
    clock = Clock()
    sent: list[int] = []
    refused = [True]

    def notifier(alert: Alert) -> bool:
        if refused[0]:
            refused[0] = False
            return False
        sent.append(alert.scan_id)
        return True

    first = open_monitor(db_url, clock, notifier)
    second = open_monitor(db_url, clock, notifier)
    try:
        failing_site(first)
        clock.advance(outbox.backoff(1))
        now = clock()
        [(alert_id, _, _, _)] = outbox.pending(first)
        with first.session() as s:
            row = s.get(AlertRow, alert_id)
            assert row is not None and row.next_attempt_at is not None
            seen = row.next_attempt_at
        # Both read the alert as due; only one claim wins, so only one sends it.
        assert outbox._claim(first, alert_id, seen, now) is True
        assert outbox._claim(second, alert_id, seen, now) is False
        assert outbox.deliver(first, alert_id) is True
        assert outbox.deliver_due(second, now + timedelta(hours=1)) == []
        assert len(sent) == 1
    finally:
        first.close()
        second.close()


def test_retention_drops_the_alerts_of_old_scans_once_they_are_settled(db_url: str) -> None:
    from linkdoctor.monitor.retention import prune

    clock = Clock()
    answers = iter([True, False])  # the first scan's alert is sent; the second's is still being retried
    monitor = open_monitor(db_url, clock, lambda _alert: next(answers, False))
    try:
        site_id = failing_site(monitor)
        monitor.run_scan(monitor.request_scan(site_id).id, owner="test")
        with monitor.session() as s:
            assert len(s.query(AlertRow).all()) == 2
        assert prune(monitor, site_id, keep=0) == 2
        with monitor.session() as s:
            [kept] = s.query(AlertRow).all()
            assert kept.sent_at is None and kept.next_attempt_at is not None
    finally:
        monitor.close()


def test_an_alert_whose_site_lost_its_targets_is_settled_not_retried(db_url: str) -> None:
    from dataclasses import replace

    clock = Clock()
    calls: list[Alert] = []
    monitor = open_monitor(db_url, clock, refusing(calls))
    try:
        site_id = failing_site(monitor)
        monitor.update_site(site_id, replace(monitor.site(site_id).spec, notify=()))
        clock.advance(outbox.backoff(1))
        monitor.run_due_scans(owner="test")
        assert len(calls) == 1  # only the first attempt, before the targets were removed
        [(_, _, _, error)] = outbox.pending(monitor)
        assert "no notification targets" in error
        clock.advance(timedelta(days=1))
        monitor.run_due_scans(owner="test")
        assert len(calls) == 1
    finally:
        monitor.close()
