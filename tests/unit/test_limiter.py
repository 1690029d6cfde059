"""Per-host politeness with an injected clock."""

from __future__ import annotations

import asyncio

import pytest

from linkdoctor.engine.http.limiter import HostLimiter, SlotsClosed


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds
        await asyncio.sleep(0)


async def test_pause_holds_every_request_to_the_host() -> None:
    t = FakeTime()
    limiter = HostLimiter(4, 0.0, clock=t.clock, sleep=t.sleep)
    limiter.pause("a.example", 2.0)
    async with limiter.slot("a.example"):
        pass
    assert t.sleeps == [2.0]
    assert limiter.paused_for("a.example") == 0.0


async def test_pause_does_not_affect_other_hosts() -> None:
    t = FakeTime()
    limiter = HostLimiter(4, 0.0, clock=t.clock, sleep=t.sleep)
    limiter.pause("a.example", 5.0)
    async with limiter.slot("b.example"):
        pass
    assert t.sleeps == []


async def test_interval_spaces_requests_to_one_host() -> None:
    t = FakeTime()
    limiter = HostLimiter(4, 0.5, clock=t.clock, sleep=t.sleep)
    for _ in range(3):
        async with limiter.slot("a.example"):
            pass
    assert t.sleeps == [0.5, 0.5]


async def test_per_host_concurrency_is_capped() -> None:
    limiter = HostLimiter(2, 0.0)
    active = 0
    peak = 0

    async def one() -> None:
        nonlocal active, peak
        async with limiter.slot("a.example"):
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1

    await asyncio.gather(*(one() for _ in range(8)))
    assert peak == 2


async def test_a_closed_limiter_starts_no_request_and_lets_the_holders_finish() -> None:
    """``close`` (a run stopping): requests holding a slot go on; those waiting for one, or for the host's
    pause, and every later one raise :class:`SlotsClosed` and give back what they held."""
    t = FakeTime()
    limiter = HostLimiter(1, 0.0, clock=t.clock, sleep=t.sleep)
    holding = asyncio.Event()
    release = asyncio.Event()
    done: list[str] = []

    async def holder() -> None:
        async with limiter.slot("a.example"):
            holding.set()
            await release.wait()
            done.append("holder")

    async def waiter() -> None:
        async with limiter.slot("a.example"):
            done.append("waiter")

    first = asyncio.create_task(holder())
    await holding.wait()
    second = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter waits for the one slot
    limiter.close()
    release.set()
    await first
    with pytest.raises(SlotsClosed):
        await second
    with pytest.raises(SlotsClosed):
        async with limiter.slot("b.example"):
            done.append("later")
    assert done == ["holder"]
