"""Settings of the distributed mode and the Redis key names every process agrees on.

One :class:`BrokerSettings` is built from the command line (``--broker``, ``--db``) and handed to the Celery
app factory, the coordinator and the workers; nothing reads global configuration.

>>> keys = Keys("linkdoctor")
>>> keys.replies("cli-1f2e")
'linkdoctor:scan:cli-1f2e:replies'
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_QUEUE = "linkdoctor.batches"
DEFAULT_NAMESPACE = "linkdoctor"
DEFAULT_PAGE_BATCH = 16
DEFAULT_LINK_BATCH = 32
DEFAULT_BATCH_WAIT = 0.02
# A batch a killed worker held is handed out again once the broker's visibility timeout has passed;
# the coordinator re-sends batches that got no reply for longer than ``redispatch_after``.
DEFAULT_VISIBILITY_TIMEOUT = 300.0
DEFAULT_REDISPATCH_AFTER = 600.0
DEFAULT_KEY_TTL = 7 * 24 * 3600


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

    @property
    def keys(self) -> Keys:
        return Keys(self.namespace)


@dataclass(frozen=True, slots=True)
class Keys:
    """Redis key names under one namespace."""

    namespace: str

    def replies(self, scan: str) -> str:
        """A list of batch replies for the scan's coordinator."""
        return f"{self.namespace}:scan:{scan}:replies"

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
        return f"{self.namespace}:scans:running"
