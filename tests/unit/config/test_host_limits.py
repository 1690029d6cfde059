"""Specs for per-host concurrency and interval (``[[hosts]] max_concurrency / interval``): which setting a
host gets, and that the limiter honours it for that host only; and for the pure URL remap."""

from __future__ import annotations

import asyncio
import re

from linkdoctor.config import CheckConfig, HostSettings
from linkdoctor.engine.http.limiter import HostLimiter
from linkdoctor.urls import remap_url

SLOW = HostSettings(("*.slow.example",), max_concurrency=1, interval=0.5)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[tuple[str, float]] = []
        self.current = ""

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append((self.current, round(seconds, 3)))
        self.now += seconds
        await asyncio.sleep(0)


def test_a_matching_host_gets_its_own_limits() -> None:
    config = CheckConfig(max_per_host=8, host_interval=0.0, host_settings=(SLOW,))
    assert config.host_limits("a.slow.example") == (1, 0.5)
    assert config.host_limits("fast.example") == (8, 0.0)


def test_each_limit_comes_from_the_first_setting_that_sets_it() -> None:
    config = CheckConfig(
        max_per_host=8,
        host_settings=(
            HostSettings(("a.example",), headers=(("X", "1"),)),
            HostSettings(("a.example",), interval=2.0),
            HostSettings(("*.example",), max_concurrency=3, interval=9.0),
        ),
    )
    assert config.host_limits("a.example") == (3, 2.0)


async def test_the_interval_applies_to_the_matching_host_only() -> None:
    t = FakeTime()
    config = CheckConfig(host_settings=(SLOW,))
    limiter = HostLimiter(32, 0.0, clock=t.clock, sleep=t.sleep, limits=config.host_limits)
    for host in ("a.slow.example", "fast.example", "a.slow.example", "fast.example", "a.slow.example"):
        t.current = host
        async with limiter.slot(host):
            pass
    assert t.sleeps == [("a.slow.example", 0.5), ("a.slow.example", 0.5)]


async def test_the_concurrency_cap_applies_to_the_matching_host_only() -> None:
    config = CheckConfig(max_per_host=4, host_settings=(SLOW,))
    limiter = HostLimiter(4, 0.0, limits=lambda host: (config.host_limits(host)[0], 0.0))
    active: dict[str, int] = {"a.slow.example": 0, "fast.example": 0}
    peak = dict(active)

    async def one(host: str) -> None:
        async with limiter.slot(host):
            active[host] += 1
            peak[host] = max(peak[host], active[host])
            await asyncio.sleep(0.01)
            active[host] -= 1

    await asyncio.wait_for(
        asyncio.gather(*(one(h) for h in ("a.slow.example", "fast.example") for _ in range(6))), timeout=10
    )
    assert peak == {"a.slow.example": 1, "fast.example": 4}


def test_without_limits_every_host_shares_the_run_settings() -> None:
    t = FakeTime()
    limiter = HostLimiter(2, 0.25, clock=t.clock, sleep=t.sleep)

    async def twice() -> None:
        for _ in range(2):
            async with limiter.slot("a.example"):
                pass

    asyncio.run(twice())
    assert [s for _, s in t.sleeps] == [0.25]


# --- remap ------------------------------------------------------------------------------------------------------
RULES = (
    (re.compile(r"^https://old\.example/(.*)"), r"https://new.example/\g<1>"),
    (re.compile(r"^https://old\.example/"), "https://never.example/"),
    (re.compile(r"http://localhost:8080"), "http://127.0.0.1:9"),
)


def test_the_first_matching_rule_rewrites_the_url() -> None:
    assert remap_url("https://old.example/docs/a.html?x=1", RULES) == "https://new.example/docs/a.html?x=1"


def test_a_url_no_rule_matches_is_unchanged() -> None:
    assert remap_url("https://other.example/", RULES) == "https://other.example/"


def test_the_rewritten_url_is_normalized() -> None:
    assert remap_url("http://localhost:8080", RULES) == "http://127.0.0.1:9/"
