"""A scan's claim and beat, and a ``check``'s hold on its scan until its report is written.

Every coordinator of a ``check --broker`` claims its scan (:func:`~linkdoctor.distributed.pagestore.owner_key`)
and beats into the sorted set of live scans; ``--resume`` refuses a scan whose coordinator beats, and waits
for a dead one's beat to go stale (:mod:`linkdoctor.distributed.resume`). The coordinator's own beats stop
with its crawl, but the scan is not done then: the report is read from the crawl state in Redis, and only
once it is written may the scan be forgotten. :class:`HeldScan` beats for the ``check`` from the crawl's end
until then, in a thread (the reports are written by blocking code), so a ``--resume`` started meanwhile is
refused instead of clearing the crawl state under the report, and the scan is forgotten unless another
coordinator holds its claim. Killed while writing, the check stops beating, and a ``--resume`` takes the scan over
``SCAN_STALE_AFTER`` seconds later, replaying every page.

>>> # with HeldScan(settings, "cli-1f2e") as held:  # held from the crawl's end (check_distributed)
>>> #     report = run_sync(check_distributed(config, inputs, settings, scan=held.scan, held=held))
>>> #     write_reports(report)
>>> #     held.check()  # raises ScanTakenOver when another coordinator took the scan meanwhile
>>> #     run_sync(held.forget())  # a finished scan's keys and stored pages go
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Final, Self

from redis.exceptions import RedisError

from linkdoctor.distributed.crawlstate import forget_state
from linkdoctor.distributed.pagestore import PageStore, open_page_store, owner_key, record_key, sent_key
from linkdoctor.distributed.resume import ScanTakenOver, owner_id
from linkdoctor.distributed.settings import (
    SCAN_BEAT_INTERVAL,
    SCAN_STALE_AFTER,
    BrokerSettings,
    Keys,
    async_redis,
    sync_redis,
)

if TYPE_CHECKING:
    from redis import Redis as SyncRedis
    from redis.asyncio import Redis

log = logging.getLogger("linkdoctor.distributed")

# KEYS: live scans, counters. ARGV: scan, now, stale before. Drops dead coordinators' scans (counted as
# failed) and marks this one alive.
BEAT: Final = """
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local n = 0
for _, scan in ipairs(dead) do
  if scan ~= ARGV[1] then
    redis.call('ZREM', KEYS[1], scan)
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[2], 'scans_failed', n) end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return n
"""

# KEYS: the scan's claim. ARGV: this coordinator, seconds. Renews the claim when it is this coordinator's
# (or takes it again when it lapsed); 0 when another coordinator holds it.
HOLD_CLAIM: Final = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1
"""

# KEYS: the scan's claim, its record. ARGV: this coordinator. Unless another coordinator holds the claim,
# drops the claim and the record (so no ``--resume`` can claim what is forgotten next) and answers 1; else 0.
_FORGET: Final = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
"""

# KEYS: the scan's claim, live scans. ARGV: this coordinator, scan. Stops counting the scan as running and
# drops the claim, if the claim is still this coordinator's (else the scan is another's).
_RELEASE: Final = """
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""


async def forget_scan(redis: Redis, keys: Keys, scan: str, store: PageStore | None) -> None:
    """Forget a scan's Redis keys and stored pages (once its results are safe: its report is written). Keys
    the broker cannot delete now expire on their own."""
    with contextlib.suppress(RedisError, OSError):
        await redis.delete(
            keys.replies(scan),
            keys.seen(scan),
            keys.leases(scan),
            record_key(keys, scan),
            sent_key(keys, scan),
            owner_key(keys, scan),
        )
        await forget_state(redis, keys.crawl_state(scan))
    if store is not None:
        await asyncio.to_thread(store.forget, scan)


class HeldScan:
    """A ``check``'s scan, held from the crawl's end (:meth:`hold`) until its report is written and the
    scan forgotten (:meth:`forget`) or left to ``--resume``. Leaving the block stops the beats and releases
    the scan: it no longer counts as running, and a ``--resume`` may take it at once."""

    def __init__(
        self,
        settings: BrokerSettings,
        scan: str,
        *,
        owner: str | None = None,
        interval: float = SCAN_BEAT_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.scan = scan
        self.owner = owner or owner_id()  # the coordinator's name in the scan's claim
        self.lost = False  # another coordinator took the scan while this one was silent
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._redis: SyncRedis | None = None

    def __enter__(self) -> Self:
        self._redis = sync_redis(self.settings)  # with the settings' socket timeouts
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop_beats()
        keys = self.settings.keys
        claim = owner_key(keys, self.scan)
        try:
            self._client().eval(_RELEASE, 2, claim, keys.running_scans, self.owner, self.scan)
        except (RedisError, OSError) as error:  # said already; without beats it is dead in SCAN_STALE_AFTER
            log.debug("scan %s: cannot release it on the broker: %s", self.scan, error)
        finally:
            self._client().close()

    def hold(self) -> None:
        """Beat for the scan from now on, every ``interval`` seconds, in a thread (its crawl is over: its
        coordinator's own beats stopped)."""
        if self._thread is None:
            self._beat()
            self._thread = threading.Thread(target=self._beats, name=f"hold-{self.scan}", daemon=True)
            self._thread.start()

    def check(self) -> None:
        """Raise :class:`~linkdoctor.distributed.resume.ScanTakenOver` when another coordinator took the scan
        over while this check was silent (frozen past ``SCAN_STALE_AFTER``): it may have cleared the crawl
        state the report was read from. Asks Redis (a beat may not have run since a freeze); a Redis that
        does not answer leaves the beats' word."""
        try:
            holder = self._client().get(owner_key(self.settings.keys, self.scan))
        except (RedisError, OSError):
            holder = None
        if holder is not None and holder != self.owner.encode():
            self.lost = True
        if self.lost:
            raise ScanTakenOver(
                f"scan {self.scan}: another coordinator took it over while the report was read (this one was "
                f"silent for more than {SCAN_STALE_AFTER:.0f} s); the report is not to be trusted, and no "
                "report file was written"
            )

    async def forget(self) -> bool:
        """Forget the finished scan: its keys and stored pages (its report is written). False, forgetting
        nothing, when another coordinator took the scan over meanwhile."""
        await asyncio.to_thread(self._stop_beats)  # a beat would claim the scan again
        keys = self.settings.keys
        redis = async_redis(self.settings)
        store = open_page_store(self.settings)
        try:
            claim, record = owner_key(keys, self.scan), record_key(keys, self.scan)
            try:
                ours = int(await redis.eval(_FORGET, 2, claim, record, self.owner))
            except (RedisError, OSError) as error:
                log.warning("scan %s: cannot forget it: %s (its keys expire on their own)", self.scan, error)
                return False
            if not ours:
                log.warning("scan %s: another coordinator took it over; its keys are left to it", self.scan)
                return False
            try:
                await forget_scan(redis, keys, self.scan, store)
            except Exception as error:  # the report is written: its pages expire on their own
                log.warning("scan %s: cannot forget its stored pages: %s", self.scan, error)
            return True
        finally:
            await redis.aclose()
            await asyncio.to_thread(store.close)

    def _stop_beats(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beats(self) -> None:
        while not self._stop.wait(self._interval) and not self.lost:
            self._beat()

    def _beat(self) -> None:
        keys = self.settings.keys
        client, claim = self._client(), owner_key(keys, self.scan)
        try:
            if not int(client.eval(HOLD_CLAIM, 1, claim, self.owner, int(SCAN_STALE_AFTER))):
                self.lost = True
                log.warning("scan %s: another coordinator took it over while this one was silent", self.scan)
                return
            now = self._clock()
            client.eval(BEAT, 2, keys.running_scans, keys.counters, self.scan, now, now - SCAN_STALE_AFTER)
        except (RedisError, OSError) as error:  # tried again at the next beat
            log.warning("scan %s: cannot mark it alive on the broker: %s", self.scan, error)

    def _client(self) -> SyncRedis:
        if self._redis is None:
            raise RuntimeError("HeldScan is used as a context manager")
        return self._redis
