"""A crawl's state in Redis: the coordinator of ``check --broker`` keeps only what its checks in flight need.

:class:`RedisState` is a :class:`~linkdoctor.engine.state.CrawlState` whose resources, links and referrers
live in the broker's Redis, under the scan's keys:

- ``…:state:r``, a hash: a resource's URL → its record (depth, flags, result, anchors, the URLs of its links);
- ``…:state:l``, a hash: a link's URL → its record (fragment, resource, preset result, emitted, settled);
- ``…:state:n``, a hash: a link's URL → its referrers that are only counted (a settled ``ok`` link's);
- ``…:state:x:<link>``, a set per link still holding its referrers (each ``[page, line, text]``, so a
  repeat is one);
- ``…:state:q``, a list: the queue of URLs to check past the first :data:`QUEUE_WINDOW` (the frontier);
- ``…:state:ro`` and ``…:state:lo``, lists: the resources and the links in the order they were added;
- ``…:state:p``, a set: the keys of the problems found (:meth:`RedisState.note_problem`), which the
  progress display counts;
- ``…:state:seq``: the number of the last write-back applied.

The coordinator keeps in memory the resources its checks in flight hold, the entries the checks since the
last write-back touched and the head of the queue, never the whole crawl: the crawler names each page's
links first (:meth:`RedisState.prefetch`, one round trip), and every :data:`FLUSH_EVERY` checks the
changes are written in one idempotent script call (:meth:`RedisState.flush`) and the entries no check
holds are dropped. A write that times out is sent again under the same sequence number, so a frozen Redis
never applies one twice; a number that does not follow the stored one means Redis lost the state. Past
``outage_grace``, on a loss, or on a write Redis refuses, the run stops resumably
(:class:`StateUnavailable`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar, cast

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from linkdoctor.codec import result_from_json
from linkdoctor.distributed.statelists import (
    CHUNK,
    SPILL_OVER,
    EmittedIndex,
    EmittedLinks,
    ReferrerSpill,
    Spill,
    SpillingQueue,
)
from linkdoctor.distributed.staterecords import (
    APPLY,
    ARITY,
    SHARED_STRINGS,
    WRITE_ARGS,
    StoredResource,
    decoded,
    emitted_record,
    link_record,
    referrer_from,
    referrer_json,
    target_of,
    text_of,
)
from linkdoctor.engine.fetching import FetchInterrupted
from linkdoctor.engine.state import LinkEntry, ResourceEntry, in_page_order
from linkdoctor.models import Referrer
from linkdoctor.scratch import StoredRows

if TYPE_CHECKING:
    from redis import Redis
    from redis.asyncio import Redis as AsyncRedis

T = TypeVar("T")
FLUSH_EVERY = 256  # checks between write-backs: what the coordinator holds besides its checks in flight
QUEUE_WINDOW = 4096  # URLs of the queue kept in memory; the rest wait in Redis
UNREAD_CHUNKS = 4  # a report's latest chunks whose referrers are read when first asked for


class StateUnavailable(FetchInterrupted):
    """The crawl's Redis stayed out of reach past the outage grace, or lost the state: the run stops,
    nothing is recorded, and the scan can be resumed (it crawls again from the pages its workers stored)."""


_LOST = (
    "the crawl's state in Redis is gone (Redis restarted without persistence, or it was flushed or "
    "evicted): give Redis persistence and maxmemory-policy noeviction"
)


class RedisState:
    """:class:`~linkdoctor.engine.state.CrawlState` in Redis under ``prefix`` (see the module's docstring).
    ``keep_all`` keeps every referrer of every link; ``outage_grace`` is how long a call waits for an
    unreachable Redis before the run stops; ``stopped(what, since)``, asked meanwhile, returns the error that
    stops it at once (a signal arrived since the call began, or one the blocked loop has not handled:
    :meth:`~linkdoctor.engine.interrupt.Interrupt.stopped_while`)."""

    def __init__(
        self,
        redis: Redis,
        prefix: str,
        *,
        keep_all: bool = False,
        ttl: int = 6 * 3600,
        outage_grace: float = 40.0,
        flush_every: int = FLUSH_EVERY,
        queue_window: int = QUEUE_WINDOW,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        stopped: Callable[[str, float], FetchInterrupted | None] | None = None,
    ) -> None:
        if redis.get_encoder().encoding_errors != "surrogatepass":
            raise ValueError(
                "RedisState needs a client with encoding_errors='surrogatepass' (URLs may hold any)"
            )
        self.keep_all = keep_all
        self.outside_memory = True
        self._redis = redis
        self._prefix = prefix
        self._ttl = ttl
        self._grace = outage_grace
        self._flush_every = flush_every
        self._sleep = sleep
        self._clock = clock
        # Asked while Redis is out of reach (the run's loop is blocked meanwhile): a signal stops it at once.
        self._stopped = stopped or (lambda what, since: None)
        # Why a call gave up (past the grace, a loss, a signal): every later call fails at once with it.
        self._gave_up: FetchInterrupted | None = None
        self._swept = clock()
        self._apply = redis.register_script(APPLY)
        self._seq = 0
        self._resources: dict[str, StoredResource] = {}  # held by a check, or touched since the last flush
        # URL → checks holding it, and whether it waits in the queue's window: its entries stay here
        self._pinned: dict[str, int] = {}
        self._touched: list[StoredResource] = []
        self._changed: dict[str, StoredResource] = {}
        self._links: dict[str, LinkEntry] = {}  # links touched since the last flush
        self._new_links: dict[str, LinkEntry] = {}  # links added or settled since the last flush
        # URLs read and found unknown since the last flush: this process is the one writer, so they stay
        # unknown until it adds them.
        self._no_link: set[str] = set()
        self._no_resource: set[str] = set()
        self._ops: list[str] = []
        # Problem keys noted since the last write-back, and how many Redis's set held after it: the count
        # lags by a write-back, never holding one key per problem here.
        self._unwritten_problems: set[str] = set()
        self._problems = 0
        # What ``_ops`` adds to the referrers of links, by URL: a result streamed before the next write-back
        # is read from Redis and these, not after a write of its own.
        self._unwritten_referrers: dict[str, list[str]] = {}
        self._unwritten_counts: dict[str, int] = {}
        self._unwritten_settled: set[str] = set()
        self._streamed: dict[str, tuple[Sequence[Referrer], int]] = {}  # read by prefetch_referrers
        self._spill = ReferrerSpill()  # the referrers of links with too many to read at once
        self._index = EmittedIndex()  # the URLs of a report's links, sorted
        # The last chunks a report read whose referrers are not read yet, and each of their links' chunk (by
        # id: the chunk keeps it alive): the referrers of a chunk are read when one of its links is first
        # asked for them, so a pass that needs only verdicts (the summary's) never reads them.
        self._unread_chunks: deque[list[LinkEntry]] = deque()
        self._unread: dict[int, list[LinkEntry]] = {}
        # The pages and texts of referrers read back, one copy each while they repeat (a report keeps a
        # problem link's referrers, and a page refers to many links).
        self._shared: dict[str, str] = {}
        self._checks = 0
        self._emitted = 0  # links with a verdict when the report began reading them
        self._queue = Spill(self, queue_window)

    # --- plumbing ----------------------------------------------------------------------------------------
    def _call(self, call: Callable[[], T]) -> T:
        if self._gave_up is not None:  # the run is stopping: the crawl's other checks must not wait again
            raise self._gave_up.with_traceback(None)  # not one more frame on it per call
        try:
            return self._retried(call)
        except FetchInterrupted as exc:
            self._gave_up = exc
            raise

    def _retried(self, call: Callable[[], T]) -> T:
        started = time.monotonic()
        deadline = started + self._grace
        delay = 0.1
        while True:
            try:
                return call()
            except ResponseError as exc:  # lost, out of memory, read-only after a failover, cannot persist
                lost = str(exc).startswith("LOST")
                raise StateUnavailable(
                    _LOST if lost else f"the crawl's Redis refused its state: {exc}"
                ) from exc
            except (RedisConnectionError, RedisTimeoutError) as exc:
                if (stop := self._stopped("the crawl's Redis was out of reach", started)) is not None:
                    raise stop from exc
                if time.monotonic() >= deadline:
                    raise StateUnavailable(f"the crawl's Redis is out of reach: {exc}") from exc
                self._sleep(delay)
                delay = min(delay * 2, 2.0)

    def _key(self, name: str) -> str:
        return f"{self._prefix}:{name}"

    def changed(self, resource: StoredResource) -> None:
        """``resource`` changed: write it back with the next flush."""
        self._changed[resource.url] = resource

    def _hold(self, resource: StoredResource) -> StoredResource:
        self._resources[resource.url] = resource
        self._touched.append(resource)
        return resource

    def _held_link(self, url: str) -> LinkEntry | None:
        link = self._links.get(url)
        if link is not None:
            return link
        owner = self._resources.get(url.partition("#")[0])
        if owner is not None:
            link = owner.held.get(url)
            if link is not None:
                self._links[url] = link
        return link

    # --- reading -----------------------------------------------------------------------------------------
    def prefetch(self, urls: Iterable[object]) -> None:
        unknown = self._no_link
        wanted = [
            u for u in dict.fromkeys(urls) if type(u) is str and u not in unknown and not self._held_link(u)
        ]
        if wanted:
            self._read(wanted)

    def _read(self, urls: Sequence[str]) -> None:
        """Read the links of ``urls`` and the resources they point at into memory (one round trip)."""
        held, unknown = self._resources, self._no_resource
        targets = [
            t for t in dict.fromkeys(u.partition("#")[0] for u in urls) if t not in held and t not in unknown
        ]

        def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hmget(self._key("l"), urls)
            if targets:
                pipe.hmget(self._key("r"), targets)
            answers: list[Any] = pipe.execute()
            return answers

        answers = self._call(read)
        for target, raw in zip(targets, answers[1] if targets else (), strict=True):
            if raw is None:
                unknown.add(target)
            else:
                self._hold(StoredResource.from_record(self, target, raw))
        for url, raw in zip(urls, answers[0], strict=True):
            if raw is None:
                self._no_link.add(url)
                continue
            link = self._link_from(url, raw, self.resource)
            self._links[url] = link
            if isinstance(link.resource, StoredResource):
                link.resource.held.setdefault(url, link)

    @staticmethod
    def _link_from(
        url: str, raw: bytes | str, resource_of: Callable[[str], ResourceEntry | None]
    ) -> LinkEntry:
        fragment, target, preset, emitted, settled = decoded(raw)
        target = target_of(url, target)
        resource = None if target is None else resource_of(target)
        if target is not None and resource is None:  # written together: one without the other is a loss
            raise StateUnavailable(_LOST)
        return LinkEntry(
            url,
            fragment,
            resource,
            None if settled else [],
            None if preset is None else result_from_json(preset),
            emitted,
        )

    def resource(self, url: str) -> ResourceEntry | None:
        held = self._resources.get(url)
        if held is not None or url in self._no_resource:
            return held
        raw = self._call(lambda: self._redis.hget(self._key("r"), url))
        if raw is None:
            self._no_resource.add(url)
            return None
        return self._hold(StoredResource.from_record(self, url, raw))

    def link(self, url: str) -> LinkEntry | None:
        link = self._held_link(url)
        if link is None and url not in self._no_link:
            self._read([url])
            link = self._links.get(url)
        return link

    def links_of(self, resource: StoredResource) -> list[LinkEntry]:
        """``resource``'s links, those not held read in one go."""
        missing = [url for url in resource.urls if url not in resource.held]
        if missing:
            self._read(missing)
            for url in missing:
                link = self._links.get(url)
                if link is None:  # its resource names it: written together
                    raise StateUnavailable(_LOST)
                resource.held[url] = link
        return [resource.held[url] for url in resource.urls]

    # --- writing -----------------------------------------------------------------------------------------
    def add_resource(self, resource: ResourceEntry) -> ResourceEntry:
        stored = StoredResource.adopt(self, resource)
        self._ops += ("R", stored.url)
        self._no_resource.discard(stored.url)
        self._hold(stored)
        self._changed[stored.url] = stored
        return stored

    def add_link(self, link: LinkEntry) -> LinkEntry:
        url = link.url
        self._ops += ("L", url)
        self._no_link.discard(url)
        found = link.referrers
        link.referrers = []
        for referrer in (found,) if isinstance(found, Referrer) else found or ():
            self._add_referrer(url, referrer)
        if link.counted:
            self._add_count(url, link.counted)
            link.counted = 0
        self._links[url] = link
        self._new_links[url] = link
        if link.resource is not None:
            link.resource.add_link(link)
        return link

    def refer_known(self, url: str, page: str, line: int | None, text: str) -> LinkEntry | None:
        link = self.link(url)
        if link is not None:
            self.refer(link, Referrer(page, line, text))
        return link

    def refer(self, link: LinkEntry, referrer: Referrer) -> None:
        if link.referrers is None:
            self._add_count(link.url, 1)
        else:
            self._add_referrer(link.url, referrer)

    def _add_referrer(self, url: str, referrer: Referrer) -> None:
        raw = referrer_json(referrer)
        self._ops += ("s", url, raw)
        self._unwritten_referrers.setdefault(url, []).append(raw)

    def _add_count(self, url: str, count: int) -> None:
        self._ops += ("n", url, str(count))
        self._unwritten_counts[url] = self._unwritten_counts.get(url, 0) + count

    def settle(self, link: LinkEntry, *, keep: bool) -> None:
        self._new_links[link.url] = link  # emitted: its record changes
        if keep or self.keep_all or link.referrers is None:
            return
        self._ops += ("k", link.url)
        self._unwritten_settled.add(link.url)
        link.referrers = None

    def flush(self, *, force: bool = False) -> None:
        self._streamed.clear()  # read for the results of the check that ended
        self._checks += 1
        if not force and self._checks < self._flush_every:
            return
        self._checks = 0
        candidates = [*self._touched, *self._changed.values()]  # a resource leaves the queue by a change
        self._write()
        self._links.clear()
        self._no_link.clear()
        self._no_resource.clear()
        held = self._resources
        pinned = self._pinned
        for resource in candidates:
            if resource.url not in pinned and held.get(resource.url) is resource:
                del held[resource.url]
                resource.held.clear()  # its links point back at it: freed now, not at a full collection
        self._touched = []
        if self._clock() - self._swept > self._ttl / 4:
            self._sweep()

    def _sweep(self) -> None:
        """Renew the expiry of the per-link referrer sets (the other keys get it with every write): a live
        crawl's state never expires, a dead coordinator's goes ``ttl`` after its last sweep."""
        self._swept = self._clock()
        pattern = _glob_literal(self._key("x")) + ":*"

        def renew() -> None:
            keys: list[Any] = []
            for key in self._redis.scan_iter(match=pattern, count=CHUNK):
                keys.append(key)
                if len(keys) >= CHUNK:
                    _expire(self._redis, keys, self._ttl)
            _expire(self._redis, keys, self._ttl)

        self._call(renew)

    def queue(self) -> asyncio.Queue[str]:
        return SpillingQueue(self._queue)

    def hold(self, resource: ResourceEntry) -> None:
        self.pin(resource.url)

    def release(self, resource: ResourceEntry) -> None:
        self.unpin(resource.url)

    def pin(self, url: str) -> None:
        """Keep the resource of ``url`` and its links here (a check holds it, or the queue's window)."""
        self._pinned[url] = self._pinned.get(url, 0) + 1

    def unpin(self, url: str) -> None:
        left = self._pinned.pop(url) - 1
        if left:
            self._pinned[url] = left
        elif (resource := self._resources.get(url)) is not None:
            self._touched.append(resource)  # forgotten with the next flush

    def read_queue(self, start: int, stop: int) -> list[str]:
        """The queued URLs ``start`` to ``stop - 1`` written to Redis (read, never popped: a read sent again
        after a timeout reads the same), their resources and links read too (two round trips)."""
        found = cast("list[bytes]", self._call(lambda: self._redis.lrange(self._key("q"), start, stop - 1)))
        urls = [text_of(url) for url in found]
        if len(urls) != stop - start:  # written before it was counted: a loss
            raise StateUnavailable(_LOST)
        wanted = [url for url in dict.fromkeys(urls) if url not in self._resources]
        raw = self._call(lambda: self._redis.hmget(self._key("r"), wanted)) if wanted else []
        links: list[str] = []
        for url, record in zip(wanted, raw, strict=True):
            if record is None:  # queued once added
                raise StateUnavailable(_LOST)
            links += self._hold(StoredResource.from_record(self, url, record)).urls
        self.prefetch(links)
        return urls

    def _write(self) -> None:
        """Write back what changed, in one call applied once however often it is sent."""
        ops = self._ops
        for url in self._queue.unsent():
            ops += ("q", url)
        for url, resource in self._changed.items():
            ops += ("r", url, resource.record())
        for url, link in self._new_links.items():
            ops += ("l", url, link_record(link))
        self._ops = []
        self._changed.clear()
        self._new_links.clear()
        self._unwritten_referrers.clear()
        self._unwritten_counts.clear()
        self._unwritten_settled.clear()
        self._unwritten_problems.clear()
        start = 0
        while start < len(ops):  # in calls of about WRITE_ARGS, cut between ops
            stop = start
            while stop < len(ops) and stop - start < WRITE_ARGS:
                stop += ARITY[ops[stop]]
            self._seq += 1
            args = [str(self._seq), self._prefix, str(self._ttl), *ops[start:stop]]
            problems = self._call(lambda: self._apply(keys=[self._key("seq")], args=args))  # noqa: B023
            self._problems = int(problems)
            start = stop

    # --- referrers ---------------------------------------------------------------------------------------
    def referrers(self, link: LinkEntry) -> Sequence[Referrer]:
        return self.referrers_and_count(link)[0]

    def referrer_count(self, link: LinkEntry) -> int:
        return self.referrers_and_count(link)[1]

    def referrers_and_count(self, link: LinkEntry) -> tuple[Sequence[Referrer], int]:
        known = link.referrers
        # Read with its report chunk (a crawl's entries hold a list or None).
        if type(known) is tuple or type(known) is StoredRows:
            return known, link.counted + len(known)
        chunk = self._unread.get(id(link))
        if chunk is not None:
            self._read_referrers(chunk)
            return self.referrers_and_count(link)
        streamed = self._streamed.pop(link.url, None)
        return streamed if streamed is not None else self._referrers_of([link.url])[link.url]

    def prefetch_referrers(self, links: Sequence[LinkEntry]) -> None:
        self._streamed = self._referrers_of([link.url for link in links])

    def _referrers_of(
        self, urls: Sequence[str], settled: Collection[str] = ()
    ) -> dict[str, tuple[Sequence[Referrer], int]]:
        """The referrers and count of each of ``urls`` (one round trip, and more for a link with more than
        :data:`SPILL_OVER` referrers, which are spilled to disk), those not written back yet included; those
        ``settled`` are only counted, their sets not read."""
        if not self._unwritten_settled.isdisjoint(urls):  # its set moves into its count: written first
            self._write()
        spill = self._spill
        listed = [url for url in urls if url not in settled and spill.spilled(url) is None]

        def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=False)
            pipe.hmget(self._key("n"), urls)
            for url in listed:
                pipe.sscan(self._key(f"x:{url}"), 0, count=SPILL_OVER)
            answers: list[Any] = pipe.execute()
            return answers

        counts, *scans = self._call(read)
        members = dict(zip(listed, scans, strict=True))
        unwritten, unwritten_counts = self._unwritten_referrers, self._unwritten_counts
        found: dict[str, tuple[Sequence[Referrer], int]] = {}
        shared = self._shared
        for url, counted in zip(urls, counts, strict=True):
            cursor, raws = members.get(url, (0, ()))
            referrers: Sequence[Referrer] | None = spill.spilled(url)
            key = self._key(f"x:{url}")
            while cursor and len(raws) <= SPILL_OVER:  # most sets come whole in the first piece
                cursor, more = self._call(partial(self._redis.sscan, key, cursor, count=SPILL_OVER))
                raws = [*raws, *more]
            if referrers is None and (cursor or len(raws) > SPILL_OVER):
                pieces = chain((raws, unwritten.get(url, ())), self._scan_rest(key, cursor))
                referrers = spill.spill(url, pieces, final=self._emitted > 0)  # a report's: no more change
            if referrers is None:
                if len(shared) > SHARED_STRINGS:
                    shared.clear()
                texts = {text_of(raw) for raw in raws}  # as Redis's set will hold them
                texts.update(unwritten.get(url, ()))
                referrers = in_page_order(referrer_from(raw, shared) for raw in texts)
            found[url] = (referrers, int(counted or 0) + unwritten_counts.get(url, 0) + len(referrers))
        return found

    def _scan_rest(self, key: str, cursor: int) -> Iterator[list[Any]]:
        """The rest of the set at ``key`` from SSCAN's ``cursor``, a piece at a time."""
        while cursor:
            cursor, piece = self._call(partial(self._redis.sscan, key, cursor, count=SPILL_OVER))
            yield piece

    # --- listing -----------------------------------------------------------------------------------------
    def resources(self) -> Iterator[ResourceEntry]:
        for urls, records in self._in_order("ro", "r"):
            for url, raw in zip(urls, records, strict=True):
                yield StoredResource.from_record(None, url, raw)

    def links(self) -> Iterator[LinkEntry]:
        for urls, records in self._in_order("lo", "l"):
            targets = _targets(urls, records)
            found = self._call(lambda: self._redis.hmget(self._key("r"), targets)) if targets else []  # noqa: B023
            resources = {
                target: StoredResource.from_record(None, target, raw, links=False)
                for target, raw in zip(targets, found, strict=True)
                if raw is not None
            }
            for url, raw in zip(urls, records, strict=True):
                yield self._link_from(url, raw, resources.get)

    def _in_order(self, order: str, records: str) -> Iterator[tuple[list[str], list[bytes]]]:
        """The URLs of the list ``order`` (in the order they were added), a chunk at a time, with their
        records in the hash ``records``."""
        self.flush(force=True)
        self._intact()
        start = 0
        while True:
            chunk = cast(
                "list[bytes]",
                self._call(partial(self._redis.lrange, self._key(order), start, start + CHUNK - 1)),
            )
            if not chunk:
                return
            urls = [text_of(url) for url in chunk]
            found = cast(
                "list[bytes | None]", self._call(partial(self._redis.hmget, self._key(records), chunk))
            )
            if any(raw is None for raw in found):
                raise StateUnavailable(_LOST)
            yield urls, cast("list[bytes]", found)
            start += len(chunk)

    def note_problem(self, key: str) -> None:
        if key not in self._unwritten_problems:
            self._unwritten_problems.add(key)
            self._ops += ("p", key)

    def problem_count(self) -> int:
        return self._problems

    def emitted_links(self) -> Sequence[LinkEntry]:
        self.flush(force=True)
        self._intact()
        self._emitted = self._index.build(self._emitted_urls())
        return EmittedLinks(self.read_chunk, self._emitted)

    def _emitted_urls(self) -> Iterator[list[bytes]]:
        """The URLs of the links with a verdict, a piece at a time (``HSCAN`` of the links' records)."""
        cursor = 0
        while True:
            found = self._call(partial(self._redis.hscan, self._key("l"), cursor, count=CHUNK))
            cursor, records = cast("tuple[int, dict[bytes, bytes]]", found)
            yield [url for url, raw in records.items() if emitted_record(raw)]
            if not cursor:
                return

    def _intact(self) -> None:
        """Raise :class:`StateUnavailable` unless Redis holds every write of this run (a loss after the last
        write is noticed before the state is read, not as an empty report)."""
        stored = self._call(lambda: self._redis.get(self._key("seq")))
        if int(stored or 0) != self._seq:
            raise StateUnavailable(_LOST)

    def read_chunk(self, start: int, stop: int) -> list[LinkEntry]:
        """The emitted links ranked ``start`` to ``stop - 1`` by URL, with their resources (two round trips).
        Their referrers are read for the whole chunk when :meth:`referrers_and_count` first asks for one of
        them (one more), and kept on each entry, in page order."""
        urls = self._index.urls(start, stop)
        if not urls:
            return []
        records = self._call(lambda: self._redis.hmget(self._key("l"), urls))
        targets = _targets(urls, records)
        found = self._call(lambda: self._redis.hmget(self._key("r"), targets)) if targets else []
        resources = {
            target: StoredResource.from_record(None, target, raw, links=False)
            for target, raw in zip(targets, found, strict=True)
            if raw is not None
        }
        links = []
        for url, raw in zip(urls, records, strict=True):
            if raw is None:  # written with its place in the order
                raise StateUnavailable(_LOST)
            links.append(self._link_from(url, raw, resources.get))
        if len(self._unread_chunks) == UNREAD_CHUNKS:
            for link in self._unread_chunks.popleft():
                self._unread.pop(id(link), None)
        self._unread_chunks.append(links)
        self._unread.update((id(link), links) for link in links)
        return links

    def _read_referrers(self, links: list[LinkEntry]) -> None:
        """Read the referrers of a chunk's ``links`` (one round trip) and keep them on each entry."""
        for link in links:
            del self._unread[id(link)]
        self._unread_chunks = deque(chunk for chunk in self._unread_chunks if chunk is not links)
        settled = {link.url for link in links if link.referrers is None}  # only counted: no set to read
        urls = [link.url for link in links]
        for link, (referrers, count) in zip(links, self._referrers_of(urls, settled).values(), strict=True):
            link.referrers = referrers
            link.counted = count - len(referrers)

    def __len__(self) -> int:
        """How many links."""
        self.flush(force=True)
        return int(self._call(lambda: self._redis.hlen(self._key("l"))))


def _targets(urls: Sequence[str], records: Sequence[bytes | str | None]) -> list[str]:
    """The URLs of the resources the link ``records`` of ``urls`` point at, each once."""
    found = (target_of(url, decoded(raw)[1]) for url, raw in zip(urls, records, strict=True) if raw)
    return [target for target in dict.fromkeys(found) if target is not None]


def _glob_literal(text: str) -> str:
    """``text`` as a Redis match pattern that matches only itself."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _expire(redis: Redis, keys: list[Any], ttl: int) -> None:
    """Give ``keys`` the expiry ``ttl`` (one round trip), and empty the list."""
    if keys:
        pipe = redis.pipeline(transaction=False)
        for key in keys:
            pipe.expire(key, ttl)
        pipe.execute()
        keys.clear()


async def forget_state(redis: AsyncRedis, prefix: str) -> None:
    """Delete every crawl state under ``prefix`` (its report is written, or a new run starts it again)."""
    pattern = _glob_literal(prefix) + ":*"  # the prefix as it is, whatever it holds
    batch: list[Any] = []
    async for key in redis.scan_iter(match=pattern, count=CHUNK):
        batch.append(key)
        if len(batch) >= CHUNK:
            await redis.unlink(*batch)
            batch.clear()
    if batch:
        await redis.unlink(*batch)
