"""Settings of the distributed mode and the Redis key names every process agrees on.

One :class:`BrokerSettings` is built from the command line (``--broker``, ``--db``) and handed to the Celery
app factory, the coordinator and the workers; nothing reads global configuration.

>>> keys = Keys("linkdoctor")
>>> keys.replies("cli-1f2e")
'linkdoctor:scan:cli-1f2e:replies'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from linkdoctor.errors import ConfigError

if TYPE_CHECKING:
    from redis import Redis as SyncRedis
    from redis.asyncio import Redis as AsyncRedis

DEFAULT_QUEUE = "linkdoctor.batches"
DEFAULT_NAMESPACE = "linkdoctor"
SCAN_TASK = "linkdoctor.scan"  # the Celery task that runs a monitored site's whole scan (distributed.fleet)
DEFAULT_PAGE_BATCH = 16
DEFAULT_LINK_BATCH = 32
DEFAULT_BATCH_WAIT = 0.02
# A worker holds a lease on the batch it runs and renews it every ``lease_ttl / 4`` seconds; the coordinator
# re-sends a batch whose lease ran out (its worker died or froze) within seconds. Celery's visibility timeout
# (the broker's own redelivery of a dead worker's message) stays the slow second line; a batch that never got
# a lease nor a reply (lost between the queue and a worker) is re-sent after ``redispatch_after``.
DEFAULT_VISIBILITY_TIMEOUT = 300.0
DEFAULT_LEASE_TTL = 10.0
DEFAULT_REDISPATCH_AFTER = 120.0
# Every Redis call times out: a frozen broker shows as an error in seconds, never as a hang.
DEFAULT_SOCKET_TIMEOUT = 5.0
DEFAULT_CONNECT_TIMEOUT = 3.0
# How long a coordinator and a worker ride out a broker outage (retrying, keeping all state) before the
# scan stops resumably (the coordinator) or the batch goes back to the queue (a worker).
DEFAULT_OUTAGE_GRACE = 40.0
# A scan's keys live this long after its coordinator's last beat: long enough to resume it, no longer.
DEFAULT_KEY_TTL = 6 * 3600
SCAN_BEAT_INTERVAL = 5.0
SCAN_STALE_AFTER = 30.0  # a coordinator silent this long is dead: its scan no longer counts as running


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """Where the broker and the shared database are, and how work is cut into batches.

    ``db_url`` is optional for a coordinator and for workers: with it, workers write every fetched page to
    the database (idempotently), so a restarted coordinator resumes from there instead of fetching again.
    """

    broker_url: str
    db_url: str | None = None
    queue: str = DEFAULT_QUEUE
    namespace: str = DEFAULT_NAMESPACE
    page_batch: int = DEFAULT_PAGE_BATCH
    link_batch: int = DEFAULT_LINK_BATCH
    batch_wait: float = DEFAULT_BATCH_WAIT
    visibility_timeout: float = DEFAULT_VISIBILITY_TIMEOUT
    redispatch_after: float = DEFAULT_REDISPATCH_AFTER
    key_ttl: int = DEFAULT_KEY_TTL
    lease_ttl: float = DEFAULT_LEASE_TTL
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    outage_grace: float = DEFAULT_OUTAGE_GRACE
    # A worker's: the environment variables a batch may name (a header's or a password's value). A batch
    # comes from whoever can write to the broker; without this list it could have any variable of the
    # worker sent as a header to a host of its choice.
    allow_env: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        check_broker_url(self.broker_url)

    @property
    def keys(self) -> Keys:
        return Keys(self.namespace)

    @property
    def redis_options(self) -> dict[str, Any]:
        """Keyword arguments of every Redis client of the distributed mode (``Redis.from_url(url, **…)``)."""
        return {
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.connect_timeout,
            "health_check_interval": 15,
        }

    @property
    def transport_options(self) -> dict[str, Any]:
        """Celery's ``broker_transport_options``: the visibility timeout and the same socket timeouts."""
        return {
            "visibility_timeout": self.visibility_timeout,
            "socket_timeout": self.socket_timeout,
            "socket_connect_timeout": self.connect_timeout,
        }


def check_broker_url(url: str) -> None:
    """Raise :class:`~linkdoctor.errors.ConfigError` (one line, exit 3) when ``url`` cannot be a broker's."""
    problem = broker_url_problem(url)
    if problem is not None:
        raise ConfigError(f"the broker URL {problem}")


def broker_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a broker URL, said without any part of it (it may hold a password),
    or None.

    Celery's kombu and redis-py (blocking and asyncio) all read the URL, so it must suit them all:
    ``redis://`` or ``rediss://``, a port from 1, a database number, and no query options but the ``ssl_*``
    ones of a ``rediss://`` URL that each of them reads alike (:data:`_SSL_OPTIONS`). Each process sets its
    own timeouts, so a ``socket_timeout`` in the URL would be refused by kombu, and an unknown option by
    redis-py, only once they connect.

    >>> broker_url_problem("redis://:secret@redis:6379/0") is None
    True
    >>> broker_url_problem("redis:6379")
    'must start with redis:// or rediss:// (e.g. redis://redis:6379/0)'
    >>> broker_url_problem("redis://redis:6379/0?socket_timeout=3")
    "has an option linkdoctor does not take: 'socket_timeout' (only ssl_* options of a rediss:// URL)"
    """
    if url != url.strip():
        return "starts or ends with a space"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # its message would quote the URL: a password with a "/" in it, say
        return "cannot be parsed: a port that is not a number from 1 to 65535, or a bracket left open"
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        return "must start with redis:// or rediss:// (e.g. redis://redis:6379/0)"
    if port == 0:
        return "cannot be parsed: a port that is not a number from 1 to 65535, or a bracket left open"
    if not re.fullmatch(r"/?|/[0-9]+", parts.path):
        return "must end in a database number, if anything (e.g. redis://redis:6379/0)"
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        allowed = _SSL_OPTIONS.get(name)
        if allowed is None or parts.scheme != "rediss":
            return f"has an option linkdoctor does not take: {name!r} (only ssl_* options of a rediss:// URL)"
        if allowed and value not in allowed:
            return f"gives {name} a value linkdoctor does not take (one of: {', '.join(sorted(allowed))})"
    return None


# The ssl_* options of a rediss:// URL that kombu hands on and redis-py, blocking and asyncio, reads alike,
# with the values both take (empty: any, a path).
_SSL_OPTIONS: dict[str, frozenset[str]] = {
    "ssl_ca_certs": frozenset(),
    "ssl_ca_path": frozenset(),
    "ssl_certfile": frozenset(),
    "ssl_keyfile": frozenset(),
    "ssl_cert_reqs": frozenset({"required", "optional", "none"}),
    "ssl_check_hostname": frozenset({"true", "false"}),
}


def async_redis(settings: BrokerSettings) -> AsyncRedis:
    """An asyncio Redis client of ``settings`` with its timeouts."""
    from redis.asyncio import Redis

    return Redis.from_url(settings.broker_url, **settings.redis_options)


def sync_redis(settings: BrokerSettings, **options: Any) -> SyncRedis:
    """A blocking Redis client of ``settings`` with its timeouts (and ``options`` of redis-py's)."""
    from redis import Redis

    return Redis.from_url(settings.broker_url, **settings.redis_options, **options)


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis key names under one namespace."""

    namespace: str

    def replies(self, scan: str) -> str:
        """A list of batch replies for the scan's coordinator."""
        return f"{self.namespace}:scan:{scan}:replies"

    def leases(self, scan: str) -> str:
        """A hash: id of a batch a worker runs → "<lease deadline in Redis ms>|<worker>"."""
        return f"{self.namespace}:scan:{scan}:leases"

    def crawl_state(self, scan: str) -> str:
        """The prefix of the scan's crawl states (:mod:`linkdoctor.distributed.crawlstate`): each run of the
        scan keeps its own under it, so a stale coordinator never writes into a resumed run's."""
        return f"{self.namespace}:scan:{scan}:state"

    def seen(self, scan: str) -> str:
        """The scan's dedupe set: hashes of every fetch already handed out."""
        return f"{self.namespace}:scan:{scan}:seen"

    def host_slots(self, host: str) -> str:
        return f"{self.namespace}:host:{host}:slots"

    def host_next(self, host: str) -> str:
        return f"{self.namespace}:host:{host}:next"

    def host_paused(self, host: str) -> str:
        return f"{self.namespace}:host:{host}:paused"

    @property
    def workers(self) -> str:
        """A sorted set: worker name → last heartbeat (epoch seconds)."""
        return f"{self.namespace}:workers"

    def worker_stats(self, name: str) -> str:
        return f"{self.namespace}:worker:{name}"

    @property
    def counters(self) -> str:
        """A hash of cluster-wide counters (checks, pages, batches, scans_started, …)."""
        return f"{self.namespace}:counters"

    @property
    def diagnoses(self) -> str:
        """A hash: diagnosis code of a broken or unverified result → how many."""
        return f"{self.namespace}:diagnoses"

    def rate_bucket(self, epoch_seconds: float) -> str:
        """Checks counted per 10-second bucket, for checks per second."""
        return f"{self.namespace}:rate:{int(epoch_seconds // 10)}"

    @property
    def running_scans(self) -> str:
        """A sorted set: scan key → its coordinator's last beat (epoch seconds)."""
        return f"{self.namespace}:scans:live"
