"""Per-host politeness across machines: the :class:`~linkdoctor.engine.http.limiter.HostLimiter` contract, kept in
Redis so every worker of every scan shares one concurrency cap, one request interval and one pause per host.

Each slot is a lease in a sorted set (member: a token, score: when the lease runs out), so a worker killed
while holding slots cannot block a host forever: its leases expire. A ``Retry-After`` answer pauses the host
for all workers. Time comes from the Redis server, so machines with skewed clocks still agree.

A host with a request interval gets one request at a time, and the next one starts at least the interval
after the previous one *ended* (its answer read, the slot released). Spacing slot acquisitions alone does not
hold at the server: one worker's request may travel longer than the next worker's (a new connection, a busy
event loop) and land 17 ms after it with a 50 ms interval. Measured from the release, the gap holds as the
server sees it, whatever the jitter.

>>> # limiter = RedisHostLimiter(redis, keys, config)
>>> # async with limiter.slot("docs.example.org"): ...
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis

from linkdoctor.config import CheckConfig
from linkdoctor.distributed.settings import Keys
from linkdoctor.engine.http.limiter import HostLimiter

# KEYS: slots, next-slot time, paused-until. ARGV: token, limit, interval ms, lease ms.
# Returns 0 when the slot is taken, a positive wait in ms (paused or interval), or -1 when the host is full.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local interval = tonumber(ARGV[3])
local limit = tonumber(ARGV[2])
if interval > 0 then limit = 1 end
if redis.call('ZCARD', KEYS[1]) >= limit then return -1 end
if interval > 0 then
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if nxt > now then return nxt - now end
  redis.call('SET', KEYS[2], now + interval, 'PX', interval + 1000)
end
local lease = tonumber(ARGV[4])
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease + 1000)
return 0
"""
# KEYS: slots, next-slot time. ARGV: token, interval ms. The next request waits the interval from now.
_RELEASE = """
redis.call('ZREM', KEYS[1], ARGV[1])
local interval = tonumber(ARGV[2])
if interval > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
  if now + interval > nxt then redis.call('SET', KEYS[2], now + interval, 'PX', interval + 1000) end
end
return 0
"""
# KEYS: paused-until. ARGV: pause ms. Only ever extends a pause.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untl > current then redis.call('SET', KEYS[1], untl, 'PX', tonumber(ARGV[1]) + 1000) end
return untl
"""
# KEYS: paused-until. Milliseconds left on the pause.
_PAUSED_FOR = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = tonumber(redis.call('GET', KEYS[1]) or '0')
if paused > now then return paused - now end
return 0
"""
_POLL_MIN = 0.005
_POLL_MAX = 0.1


class RedisHostLimiter(HostLimiter):
    """Slots per host from Redis, with the run's limits (``config.host_limits``)."""

    def __init__(
        self,
        redis: Redis,
        keys: Keys,
        config: CheckConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(config.max_per_host, config.host_interval, limits=config.host_limits, sleep=sleep)
        self._redis = redis
        self._keys = keys
        self._host_limits = config.host_limits
        # A request holds its slot for at most one timeout plus a connect; the margin covers slow reads.
        self._lease_ms = int((config.timeout + config.connect_timeout) * 2000) + 30_000
        self._acquire = redis.register_script(_ACQUIRE)
        self._release = redis.register_script(_RELEASE)
        self._pause_script = redis.register_script(_PAUSE)
        self._paused_script = redis.register_script(_PAUSED_FOR)
        self._wait = sleep
        self._rng = rng or random.Random()
        self._pending: set[asyncio.Task[Any]] = set()

    @asynccontextmanager
    async def slot(self, host: str) -> AsyncIterator[None]:
        if self._pending:  # a Retry-After this worker saw must reach Redis before its next request
            await asyncio.gather(*self._pending, return_exceptions=True)
        per_host, interval = self._host_limits(host)
        token = secrets.token_hex(8)
        keys = [self._keys.host_slots(host), self._keys.host_next(host), self._keys.host_paused(host)]
        args: list[str | int] = [token, max(1, per_host), int(max(0.0, interval) * 1000), self._lease_ms]
        poll = _POLL_MIN
        while True:
            answer = int(await self._acquire(keys=keys, args=args))
            if answer == 0:
                break
            if answer > 0:
                await self._wait(answer / 1000)
            else:
                await self._wait(poll * (0.5 + self._rng.random()))
                poll = min(poll * 2, _POLL_MAX)
        try:
            yield
        finally:
            await asyncio.shield(self._release(keys=keys[:2], args=[token, args[2]]))

    def pause(self, host: str, seconds: float) -> None:
        """Pause ``host`` for every worker (a ``Retry-After`` answer). Called from the event loop; the
        write completes before this limiter hands out its next slot."""
        task = asyncio.get_running_loop().create_task(self.pause_async(host, seconds))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def pause_async(self, host: str, seconds: float) -> None:
        await self._pause_script(keys=[self._keys.host_paused(host)], args=[int(max(0.0, seconds) * 1000)])

    async def paused_for_async(self, host: str) -> float:
        """Seconds left on the host's shared pause."""
        return int(await self._paused_script(keys=[self._keys.host_paused(host)])) / 1000
