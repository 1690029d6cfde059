"""A scan's record on a real Redis, and when ``--resume`` may take a scan over: a new scan writes its record
with the keys' lifetime; a resume of an unknown scan or of other inputs is refused; a resume waits until a
killed coordinator counts as dead, and refuses a coordinator that still beats. The clock is injected."""

from __future__ import annotations

import json

import pytest
from harness.redis import RedisServer

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.pagestore import record_key
from linkdoctor.distributed.resume import fingerprint, open_scan
from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings, async_redis
from linkdoctor.distributed.wire import FetchSpec
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.errors import ConfigError

pytestmark = [pytest.mark.timeout(60)]
NOW = 1_800_000_000.0
SPEC = FetchSpec.from_config(CheckConfig(), env={})
MARK = fingerprint(SPEC, collect_inputs(["https://a.test/"]))


class Clock:
    """Time that passes only when the code under test sleeps; ``on_sleep`` runs at each sleep."""

    def __init__(self, on_sleep: object = None) -> None:
        self.now = NOW
        self.slept = 0.0
        self.on_sleep = on_sleep

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds
        if callable(self.on_sleep):
            self.on_sleep()


async def test_a_new_scan_writes_its_record_to_live_as_long_as_its_keys(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url, key_ttl=900)
    redis = async_redis(settings)
    try:
        await open_scan(redis, settings, "cli-a", store="redis", fingerprint=MARK, resume=False)
    finally:
        await redis.aclose()
    client = redis_server.client()
    record = json.loads(client.get(record_key(settings.keys, "cli-a")) or b"{}")
    assert record["store"] == "redis" and record["fingerprint"] == MARK
    assert 0 < client.ttl(record_key(settings.keys, "cli-a")) <= 900


async def test_resuming_an_unknown_scan_or_other_inputs_is_refused(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    other = fingerprint(SPEC, collect_inputs(["https://b.test/"]))
    redis = async_redis(settings)
    try:
        with pytest.raises(ConfigError, match="no such scan"):
            await open_scan(redis, settings, "cli-b", store="redis", fingerprint=MARK, resume=True)
        await open_scan(redis, settings, "cli-b", store="redis", fingerprint=MARK, resume=False)
        with pytest.raises(ConfigError, match="other inputs or settings"):
            await open_scan(redis, settings, "cli-b", store="redis", fingerprint=other, resume=True)
    finally:
        await redis.aclose()


async def test_a_resume_waits_until_the_killed_coordinator_counts_as_dead(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    client.zadd(settings.keys.running_scans, {"cli-c": NOW - 4})  # its last beat, 4 s before the kill
    clock = Clock()
    redis = async_redis(settings)
    try:
        await open_scan(redis, settings, "cli-c", store="redis", fingerprint=MARK, resume=False)
        await open_scan(
            redis,
            settings,
            "cli-c",
            store="redis",
            fingerprint=MARK,
            resume=True,
            clock=clock,
            sleep=clock.sleep,
        )
    finally:
        await redis.aclose()
    assert SCAN_STALE_AFTER - 4 <= clock.slept <= SCAN_STALE_AFTER - 4 + 1.5


async def test_a_resume_of_a_scan_whose_coordinator_still_beats_is_refused(redis_server: RedisServer) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    client.zadd(settings.keys.running_scans, {"cli-d": NOW - 1})
    clock = Clock()
    clock.on_sleep = lambda: client.zadd(settings.keys.running_scans, {"cli-d": clock.now})  # alive
    redis = async_redis(settings)
    try:
        await open_scan(redis, settings, "cli-d", store="redis", fingerprint=MARK, resume=False)
        with pytest.raises(ConfigError, match="the scan is running"):
            await open_scan(
                redis,
                settings,
                "cli-d",
                store="redis",
                fingerprint=MARK,
                resume=True,
                clock=clock,
                sleep=clock.sleep,
            )
    finally:
        await redis.aclose()
