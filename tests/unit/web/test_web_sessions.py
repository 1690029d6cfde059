"""CSRF tokens, post-login redirects and the scheduler loop, without a server."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from linkdoctor.web import csrf
from linkdoctor.web.auth import safe_next
from linkdoctor.web.context import Ticker


def test_csrf_token_is_stable_within_a_session_and_changes_on_rotation() -> None:
    session: dict[str, Any] = {}
    first = csrf.session_token(session)
    assert csrf.session_token(session) == first
    assert csrf.rotate(session) != first
    assert not csrf.tokens_match(session, first)


def test_a_session_without_a_token_matches_nothing() -> None:
    assert not csrf.tokens_match({}, "")
    assert not csrf.tokens_match({}, "anything")


def test_post_login_targets_stay_on_the_site() -> None:
    assert safe_next("/scans/3?category=broken") == "/scans/3?category=broken"
    for hostile in ("https://evil.example/", "//evil.example", "/\\evil.example", "", None):
        assert safe_next(hostile) == "/"


async def test_ticker_ticks_at_once_then_again_when_woken_from_another_thread() -> None:
    calls: list[str] = []
    ticker = Ticker(lambda: calls.append(threading.current_thread().name), period=60)
    ticker.start()
    for _ in range(100):
        if calls:
            break
        await asyncio.sleep(0.01)
    threading.Thread(target=ticker.wake).start()
    for _ in range(100):
        if len(calls) == 2:
            break
        await asyncio.sleep(0.01)
    await ticker.stop(grace=5)
    assert len(calls) == 2
    assert threading.main_thread().name not in calls  # ticks run in worker threads


async def test_a_failing_tick_does_not_stop_the_ticker() -> None:
    calls = 0

    def tick() -> None:
        nonlocal calls
        calls += 1
        raise RuntimeError("database away")

    ticker = Ticker(tick, period=0.01)
    ticker.start()
    for _ in range(200):
        if calls >= 3:
            break
        await asyncio.sleep(0.01)
    await ticker.stop(grace=5)
    assert calls >= 3


def test_failing_ticks_wait_longer_each_time_up_to_a_bound() -> None:
    ticker = Ticker(lambda: None, period=5)
    assert [ticker.wait_after(n) for n in range(4)] == [5, 10, 20, 40]
    assert ticker.wait_after(12) == 300 and ticker.wait_after(10_000) == 300
    assert Ticker(lambda: None, period=600).wait_after(3) == 600  # never shorter than the period


async def test_a_tick_that_fails_in_a_row_is_retried_less_often_and_recovers() -> None:
    calls = 0

    def tick() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError("broker away")

    ticker = Ticker(tick, period=0.05)
    ticker.start()
    await asyncio.sleep(0.5)  # failing: ticks at 0, 0.1, 0.3 (waits 0.1, 0.2, then 0.4); 20 without backoff
    during = calls
    for _ in range(500):  # the fourth tick (at 0.7) succeeds, then one every 0.05 s; at most 5 s
        if calls >= during + 4:
            break
        await asyncio.sleep(0.01)
    await ticker.stop(grace=5)
    assert during <= 4
    assert calls >= during + 4
