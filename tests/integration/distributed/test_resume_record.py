"""A scan's record on a real Redis, and when ``--resume`` may take a scan over: a new scan writes its record
with the keys' lifetime; a resume of an unknown scan or of other inputs is refused; a resume waits until a
killed coordinator counts as dead, and refuses a coordinator that still beats; of two resumes started
together one runs; a signal ends the wait with the scan untouched; a changed password is a mismatch, and
no password is stored; a frozen broker is an error within the socket timeout. The clock is injected."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from harness.redis import RedisServer
from redis.asyncio import Redis

from linkdoctor.config import CheckConfig, ClientCert, HostSettings, Secret
from linkdoctor.distributed.claim import HeldScan
from linkdoctor.distributed.pagestore import owner_key, record_key
from linkdoctor.distributed.resume import (
    Interrupt,
    ScanStopped,
    ScanTakenOver,
    fingerprint,
    open_scan,
    secrets_of,
)
from linkdoctor.distributed.run import remote_pages
from linkdoctor.distributed.settings import SCAN_STALE_AFTER, BrokerSettings, async_redis
from linkdoctor.distributed.wire import FetchSpec
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.errors import ConfigError

pytestmark = [pytest.mark.timeout(60)]
WAIT_S = 20.0
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


async def resumed(redis: Redis, settings: BrokerSettings, scan: str, clock: Clock) -> None:
    """``open_scan`` resuming ``scan``, waiting on ``clock``."""
    await open_scan(
        redis, settings, scan, store="redis", fingerprint=MARK, resume=True, clock=clock, sleep=clock.sleep
    )


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
        client.delete(owner_key(settings.keys, "cli-c"))  # its claim lapsed with its beats (real time)
        await resumed(redis, settings, "cli-c", clock)
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
            await resumed(redis, settings, "cli-d", clock)
    finally:
        await redis.aclose()


async def test_of_two_resumes_of_one_scan_started_together_one_runs_and_the_other_is_refused(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    client.zadd(settings.keys.running_scans, {"cli-e": NOW - SCAN_STALE_AFTER - 1})  # a dead coordinator
    first, second = async_redis(settings), async_redis(settings)
    try:
        await open_scan(first, settings, "cli-e", store="redis", fingerprint=MARK, resume=False)
        client.delete(owner_key(settings.keys, "cli-e"))  # the dead coordinator's claim lapsed
        outcomes = await asyncio.gather(
            *(
                open_scan(
                    redis, settings, "cli-e", store="redis", fingerprint=MARK, resume=True, clock=Clock()
                )
                for redis in (first, second)
            ),
            return_exceptions=True,
        )
    finally:
        await first.aclose()
        await second.aclose()
    refused = [o for o in outcomes if isinstance(o, ConfigError)]
    assert outcomes.count(None) == 1 and len(refused) == 1, outcomes
    assert str(refused[0]) == "--resume cli-e: another --resume of that scan is running"
    assert 0 < client.ttl(owner_key(settings.keys, "cli-e")) <= SCAN_STALE_AFTER


async def test_a_signal_during_the_wait_for_a_dead_coordinator_stops_the_resume_with_the_scan_untouched(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url)
    client = redis_server.client()
    redis = async_redis(settings)
    loop = asyncio.get_running_loop()
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            scan = f"cli-f{signum}"
            await open_scan(
                redis, settings, scan, store="redis", fingerprint=MARK, resume=False, owner="dead"
            )
            client.zadd(settings.keys.running_scans, {scan: time.time()})  # killed just now: 30 s to wait
            interrupt = Interrupt(scan)
            with interrupt.installed():
                loop.call_later(0.3, os.kill, os.getpid(), signum)
                with pytest.raises(ScanStopped) as stopped:
                    await asyncio.wait_for(
                        interrupt.guard(
                            open_scan(redis, settings, scan, store="redis", fingerprint=MARK, resume=True)
                        ),
                        SCAN_STALE_AFTER / 2,
                    )
            assert stopped.value.exit_code == 128 + signum
            name = signal.Signals(signum).name
            assert str(stopped.value) == (
                f"stopped by {name} while waiting for the scan's earlier coordinator: nothing changed; "
                f"resume with --resume {scan}"
            )
            assert client.exists(record_key(settings.keys, scan))  # resumable
            assert client.get(owner_key(settings.keys, scan)) == b"dead"  # and not claimed
    finally:
        await redis.aclose()


async def test_a_resume_with_a_changed_password_is_refused_and_no_password_is_in_the_record(
    redis_server: RedisServer,
) -> None:
    """The spec names the variable holding a basic-auth or client-key password or a credential header, not
    its value: pages fetched with the old secret must not be replayed for a new one, nor the value stored in
    Redis."""
    settings = BrokerSettings(redis_server.url)
    inputs = collect_inputs(["https://a.test/"])

    def mark(password: str, key_password: str, token: str = "t0ken-one") -> str:
        env = {"SITE_PASSWORD": password, "KEY_PASSWORD": key_password, "SITE_TOKEN": token}
        cert = ClientCert(Path("client.pem"), password_env="KEY_PASSWORD").with_password_from(
            env, missing=KeyError
        )
        config = CheckConfig(
            headers=(("Authorization", token),),
            host_settings=(HostSettings(("a.test",), basic_auth=("ann", Secret(password))),),
            client_certs=(cert,),
        )
        spec = FetchSpec.from_config(config, env=env)
        return fingerprint(spec, inputs, secrets=secrets_of(config), salt="cli-g")

    first = mark("correct horse", "key pass")
    assert mark("correct horse", "key pass") == first
    assert mark("Tr0ub4dor&3", "key pass") != first
    assert mark("correct horse", "other key pass") != first
    assert mark("correct horse", "key pass", "t0ken-two") != first
    redis = async_redis(settings)
    try:
        await open_scan(redis, settings, "cli-g", store="redis", fingerprint=first, resume=False)
        with pytest.raises(ConfigError, match="other inputs or settings"):
            await open_scan(
                redis,
                settings,
                "cli-g",
                store="redis",
                fingerprint=mark("Tr0ub4dor&3", "key pass"),
                resume=True,
            )
    finally:
        await redis.aclose()
    stored = b"".join(
        v for k in redis_server.client().scan_iter() for v in [redis_server.client().dump(k) or b""]
    )
    assert b"correct horse" not in stored and b"key pass" not in stored and b"t0ken" not in stored


async def test_a_frozen_broker_when_the_scan_opens_is_one_error_within_its_socket_timeout(
    redis_server: RedisServer,
) -> None:
    settings = BrokerSettings(redis_server.url, socket_timeout=1.0, connect_timeout=1.0)

    async def opening(redis: Redis, store: str) -> None:
        await open_scan(redis, settings, "cli-h", store=store, fingerprint=MARK, resume=False)

    started = time.monotonic()
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(FetchInterrupted, match=r"^cannot reach the broker: Timeout"):
            async with remote_pages(settings, CheckConfig(), scan="cli-h", env={}, opening=opening):
                pass
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    assert time.monotonic() - started < 4 * settings.socket_timeout  # not the client default of 5 s


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``, at most ``WAIT_S`` seconds."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("claim", ["kept", "lapsed", "taken over"])
async def test_a_held_scan_beats_until_released_and_is_forgotten_unless_another_took_it(
    redis_server: RedisServer, claim: str
) -> None:
    """A check holds its scan while it writes its report: live and claimed, then forgotten and released (also
    when its claim lapsed meanwhile, in a broker outage); a scan another coordinator took over meanwhile is
    neither forgotten nor released, and the check says its report is not to be trusted."""
    settings = BrokerSettings(redis_server.url)
    keys, client, scan = settings.keys, redis_server.client(), "cli-h"
    client.set(record_key(keys, scan), "{}")
    client.set(owner_key(keys, scan), "check", ex=int(SCAN_STALE_AFTER))
    taken_over = claim == "taken over"
    with HeldScan(settings, scan, owner="check", interval=0.05) as held:
        held.hold()
        first = client.zscore(keys.running_scans, scan) or 0.0
        await until(lambda: (client.zscore(keys.running_scans, scan) or 0.0) > first > 0)  # it beats
        if taken_over:
            client.set(owner_key(keys, scan), "resume", ex=int(SCAN_STALE_AFTER))
            with pytest.raises(ScanTakenOver, match="the report is not to be trusted"):
                held.check()  # asks Redis, whether or not a beat noticed
            await until(lambda: held.lost)
        else:
            held.check()
        if claim == "lapsed":
            await asyncio.to_thread(held._stop_beats)
            client.delete(owner_key(keys, scan))
        assert await held.forget() is not taken_over
    if taken_over:  # the other coordinator's scan, untouched
        assert client.get(owner_key(keys, scan)) == b"resume" and client.exists(record_key(keys, scan))
        assert client.zscore(keys.running_scans, scan) is not None
    else:
        assert not client.exists(owner_key(keys, scan), record_key(keys, scan))
        assert client.zscore(keys.running_scans, scan) is None


async def test_a_resume_waiting_for_a_check_that_then_forgets_its_finished_scan_is_refused(
    redis_server: RedisServer,
) -> None:
    """A ``--resume`` that saw the scan live and waited, while its check wrote a short report and forgot the
    scan, does not claim the forgotten scan and run it again."""
    settings = BrokerSettings(redis_server.url)
    keys, client, scan = settings.keys, redis_server.client(), "cli-j"
    client.zadd(keys.running_scans, {scan: NOW - 1})  # the check's last beat, as it writes its report

    def finished() -> None:  # the check's HeldScan.forget, then its release
        client.delete(owner_key(keys, scan), record_key(keys, scan))
        client.zrem(keys.running_scans, scan)

    clock = Clock(on_sleep=finished)
    redis = async_redis(settings)
    try:
        await open_scan(redis, settings, scan, store="redis", fingerprint=MARK, resume=False, owner="check")
        with pytest.raises(ConfigError, match="it finished meanwhile"):
            await resumed(redis, settings, scan, clock)
    finally:
        await redis.aclose()
    assert not client.exists(owner_key(keys, scan))
