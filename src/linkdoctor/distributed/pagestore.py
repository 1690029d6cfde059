"""Where the workers keep the pages they fetched for a scan in flight, so a restarted coordinator replays them
instead of fetching again: the database (:class:`~linkdoctor.distributed.store.FetchStore`) when one is
configured, else a Redis hash per scan (:class:`RedisPageStore`), so the default Redis-only deployment can
resume too.

Both satisfy :class:`PageStore`. The coordinator says which one a scan uses in the scan's record
(:func:`record_key`, written by :mod:`linkdoctor.distributed.resume`): a worker with a database still writes
to Redis for a coordinator that has none (``check --broker`` on a laptop), and :class:`ScanPages` routes each
scan's pages accordingly. Redis pages expire with the scan's other keys (``key_ttl`` after the last write or
beat) and are deleted when the scan finishes.

>>> keys = Keys("linkdoctor")
>>> pages_key(keys, "cli-1f2e")
'linkdoctor:scan:cli-1f2e:pages'
>>> # store = open_page_store(BrokerSettings("redis://127.0.0.1:6379/0"))
>>> # store.put("cli-1f2e", {"key": {...page json...}}); store.get("cli-1f2e", "key")
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from linkdoctor.distributed.settings import BrokerSettings, Keys, sync_redis

if TYPE_CHECKING:
    from redis import Redis as SyncRedis

STORE_REDIS: Final = "redis"
STORE_DB: Final = "db"
_KINDS_REMEMBERED: Final = 1024  # scans whose store a worker remembers (one scan's batches come in a row)


class PageStore(Protocol):
    """Pages fetched for scans in flight, by scan and fetch key. Writes are idempotent (a batch run twice
    writes the same pages again)."""

    def put(self, scan: str, pages: Mapping[str, dict[str, Any]]) -> None: ...

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        """The stored page of one fetch key, if any."""

    def count(self, scan: str) -> tuple[int, int]: ...

    def forget(self, scan: str) -> None: ...

    def close(self) -> None: ...


def pages_key(keys: Keys, scan: str) -> str:
    """A hash: fetch key → the page's JSON, for one scan (the Redis page store)."""
    return f"{keys.namespace}:scan:{scan}:pages"


def record_key(keys: Keys, scan: str) -> str:
    """A string: the scan's record (JSON: its page store, and a fingerprint of what it checks)."""
    return f"{keys.namespace}:scan:{scan}:record"


def owner_key(keys: Keys, scan: str) -> str:
    """A string: which ``--resume`` process runs the scan now (expires ``SCAN_STALE_AFTER`` after its beat)."""
    return f"{keys.namespace}:scan:{scan}:owner"


def sent_key(keys: Keys, scan: str) -> str:
    """A hash: fetch key → the id of the batch that carries it, so a resumed coordinator ties a fetch an
    earlier one handed out to that batch's lease."""
    return f"{keys.namespace}:scan:{scan}:sent"


class RedisPageStore:
    """The pages of each scan in one Redis hash that expires ``ttl`` seconds after its last write."""

    def __init__(self, redis: SyncRedis, keys: Keys, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl

    def put(self, scan: str, pages: Mapping[str, dict[str, Any]]) -> None:
        """Write (or overwrite) the pages of one batch in one transaction."""
        if not pages:
            return
        key = pages_key(self._keys, scan)
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={item: json.dumps(page) for item, page in pages.items()})
            pipe.expire(key, self._ttl)
            pipe.execute()

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        raw = self._redis.hget(pages_key(self._keys, scan), key)
        return None if raw is None else cast("dict[str, Any]", json.loads(raw))

    def count(self, scan: str) -> tuple[int, int]:
        """(pages, distinct fetch keys) of ``scan``: a hash holds each key once."""
        n = int(self._redis.hlen(pages_key(self._keys, scan)))
        return n, n

    def forget(self, scan: str) -> None:
        self._redis.delete(pages_key(self._keys, scan))

    def close(self) -> None:
        self._redis.close()


class ScanPages:
    """The page store of a process of the distributed mode: each scan's pages go where its coordinator reads
    them (the scan's record says ``db`` or ``redis``; with no record, the database when there is one).
    Reading gives the pages of both, so a coordinator with a database also sees what a worker without one
    stored in Redis."""

    def __init__(self, redis: SyncRedis, keys: Keys, *, ttl: int, db: PageStore | None = None) -> None:
        self._redis = redis
        self._keys = keys
        self.redis = RedisPageStore(redis, keys, ttl)
        self.db = db
        self._kinds: dict[str, str] = {}

    @property
    def kind(self) -> str:
        """The store this process's own scans use: ``db`` with a database, else ``redis``."""
        return STORE_DB if self.db is not None else STORE_REDIS

    def put(self, scan: str, pages: Mapping[str, dict[str, Any]]) -> None:
        if self.db is not None and self._kind_of(scan) == STORE_DB:
            self.db.put(scan, pages)
        else:
            self.redis.put(scan, pages)

    def get(self, scan: str, key: str) -> dict[str, Any] | None:
        page = self.redis.get(scan, key)
        if page is None and self.db is not None:
            page = self.db.get(scan, key)
        return page

    def count(self, scan: str) -> tuple[int, int]:
        rows, distinct = self.redis.count(scan)
        if self.db is not None:
            more_rows, more_distinct = self.db.count(scan)
            rows, distinct = rows + more_rows, distinct + more_distinct
        return rows, distinct

    def forget(self, scan: str) -> None:
        self.redis.forget(scan)
        if self.db is not None:
            self.db.forget(scan)
        self._kinds.pop(scan, None)

    def close(self) -> None:
        self.redis.close()
        if self.db is not None:
            self.db.close()

    def _kind_of(self, scan: str) -> str:
        kind = self._kinds.get(scan)
        if kind is None:
            raw = self._redis.get(record_key(self._keys, scan))
            kind = str(json.loads(_text(raw)).get("store", self.kind)) if raw else self.kind
            if len(self._kinds) >= _KINDS_REMEMBERED:
                self._kinds.clear()
            self._kinds[scan] = kind
        return kind


def open_page_store(settings: BrokerSettings) -> ScanPages:
    """The page store of ``settings``: the database's when ``db_url`` is set (migrated first when new), with
    Redis for scans whose coordinator has no database."""
    db: PageStore | None = None
    if settings.db_url:
        from linkdoctor.distributed.store import FetchStore

        db = FetchStore.open(settings.db_url)
    return ScanPages(sync_redis(settings), settings.keys, ttl=settings.key_ttl, db=db)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
