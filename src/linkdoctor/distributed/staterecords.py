"""The records of a :class:`~linkdoctor.distributed.crawlstate.RedisState`: a resource as it is held in
memory (:class:`StoredResource`, which marks itself changed), the JSON a resource, a link and a
referrer are kept as in Redis, and the script that writes them back (:data:`APPLY`).

>>> # StoredResource.from_record(owner, url, raw).record() == raw
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from linkdoctor.codec import result_from_json, result_to_json
from linkdoctor.engine.state import LinkEntry, ResourceEntry
from linkdoctor.models import Referrer

# One write-back, applied at most once (its sequence number is kept): ARGV = seq, prefix, ttl, then ops. A
# sequence number that does not follow the stored one means Redis lost the state (restarted without
# persistence, flushed, or evicted it): nothing is applied. Returns the number of problem keys.
APPLY = """
local seq = tonumber(ARGV[1])
local p, ttl, i = ARGV[2], tonumber(ARGV[3]), 4
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
if last >= seq then return redis.call('SCARD', p .. ':p') end
if last ~= seq - 1 then return redis.error_reply('LOST crawl state: write ' .. seq .. ' after ' .. last) end
while i <= #ARGV do
  local op, url = ARGV[i], ARGV[i + 1]
  if op == 'r' then redis.call('HSET', p .. ':r', url, ARGV[i + 2]); i = i + 3
  elseif op == 'l' then redis.call('HSET', p .. ':l', url, ARGV[i + 2]); i = i + 3
  elseif op == 'q' then redis.call('RPUSH', p .. ':q', url); i = i + 2
  elseif op == 'R' then redis.call('RPUSH', p .. ':ro', url); i = i + 2
  elseif op == 'L' then redis.call('RPUSH', p .. ':lo', url); i = i + 2
  elseif op == 'n' then redis.call('HINCRBY', p .. ':n', url, ARGV[i + 2]); i = i + 3
  elseif op == 'p' then redis.call('SADD', p .. ':p', url); i = i + 2
  elseif op == 's' then
    local key = p .. ':x:' .. url
    if redis.call('SADD', key, ARGV[i + 2]) == 1 and redis.call('SCARD', key) == 1 then
      redis.call('EXPIRE', key, ttl)
    end
    i = i + 3
  elseif op == 'k' then
    local key = p .. ':x:' .. url
    local count = redis.call('SCARD', key)
    redis.call('DEL', key)
    if count > 0 then redis.call('HINCRBY', p .. ':n', url, count) end
    i = i + 2
  else return redis.error_reply('unknown op ' .. op) end
end
redis.call('SET', KEYS[1], seq, 'EX', ttl)
for _, name in ipairs({':r', ':l', ':n', ':q', ':ro', ':lo', ':p'}) do redis.call('EXPIRE', p .. name, ttl) end
return redis.call('SCARD', p .. ':p')
"""


ARITY = {"r": 3, "l": 3, "n": 3, "s": 3, "q": 2, "k": 2, "R": 2, "L": 2, "p": 2}
WRITE_ARGS = 12_000  # a write-back's ops per script call: a huge page is written in several, none long

# Referrers' pages and texts shared while they repeat; past this many the memo starts over (bounded).
SHARED_STRINGS = 65_536


class Owner(Protocol):
    """The state a :class:`StoredResource` belongs to."""

    def changed(self, resource: StoredResource) -> None:
        """``resource`` changed: write it back with the next flush."""

    def links_of(self, resource: StoredResource) -> list[LinkEntry]:
        """``resource``'s links, those not held read in one go."""


class StoredResource(ResourceEntry):
    """A resource of a RedisState: its changes mark it to be written back, and its links are
    kept as URLs (``urls``), their entries read when asked for."""

    __slots__ = ("_owner", "held", "urls")
    _owner: Owner | None

    def __init__(self, owner: Owner | None, url: str, depth: int, crawl: bool) -> None:
        object.__setattr__(self, "_owner", None)
        super().__init__(url, depth, crawl)
        self.urls: list[str] = []
        self.held: dict[str, LinkEntry] = {}  # the entries of its links read or added while it is held
        object.__setattr__(self, "_owner", owner)

    def __setattr__(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)
        owner = self._owner
        if owner is not None:
            owner.changed(self)

    @classmethod
    def adopt(cls, owner: Owner, entry: ResourceEntry) -> StoredResource:
        stored = cls(None, entry.url, entry.depth, entry.crawl)
        stored.scope_seed, stored.queued, stored.done = entry.scope_seed, entry.queued, entry.done
        stored.fetched_body, stored.result, stored.anchors = entry.fetched_body, entry.result, entry.anchors
        for link in entry.links:
            stored.urls.append(link.url)
            stored.held[link.url] = link
        object.__setattr__(stored, "_owner", owner)
        return stored

    @property
    def links(self) -> Sequence[LinkEntry]:
        owner = self._owner
        if owner is None or len(self.held) == len(self.urls):
            return [self.held[url] for url in self.urls]
        return owner.links_of(self)

    def add_link(self, link: LinkEntry) -> None:
        self.urls.append(link.url)
        self.held[link.url] = link
        if self._owner is not None:
            self._owner.changed(self)

    def record(self) -> str:
        result: Any = elapsed_only(self)  # a plain ok result: its elapsed time alone, never built
        if result is None and (kept := self.result) is not None:
            result = result_to_json(kept)
        anchors = None if self.anchors is None else sorted(self.anchors)
        head = json.dumps([self.depth, self._bits, result, anchors], separators=(",", ":"))
        urls = [_after(self.url, url) for url in self.urls]
        return f"{head}\n{json.dumps(urls, separators=(',', ':'))}"  # JSON holds no raw newline

    @classmethod
    def from_record(
        cls, owner: Owner | None, url: str, raw: bytes | str, *, links: bool = True
    ) -> StoredResource:
        """The resource of a record. ``links=False`` decodes its head alone (its result, not the URLs of its
        links): what a report's verdicts read, at a page's links' cost less."""
        head, _, rest = raw.partition(b"\n" if isinstance(raw, bytes) else "\n")  # type: ignore[arg-type]
        depth, bits, result, anchors = decoded(head)
        stored = cls(None, url, depth, False)
        stored._bits = bits
        if isinstance(result, float | int):
            stored._result = float(result)
        elif result is not None:
            stored.result = result_from_json(result)
        stored.anchors = None if anchors is None else frozenset(anchors)
        if links:
            stored.urls = [_before(url, after) for after in decoded(rest)]
        object.__setattr__(stored, "_owner", owner)
        return stored


def _after(base: str, url: str) -> str:
    r"""``url``, a link of the resource ``base``, as its resource's record keeps it: what follows ``base``
    (``""``, ``"#top"``), as it nearly always is; else whole, behind a ``!`` if it could read as that.

    >>> [_after("https://a.example/p", u) for u in ("https://a.example/p#top", "https://b.example/", "#x")]
    ['#top', 'https://b.example/', '!#x']
    """
    if url.startswith(base) and url[len(base) : len(base) + 1] in ("", "#"):
        return url[len(base) :]
    return "!" + url if url[:1] in ("", "#", "!") else url


def _before(base: str, kept: str) -> str:
    """The URL :func:`_after` kept as ``kept``."""
    first = kept[:1]
    if first in ("", "#"):
        return base + kept
    return kept[1:] if first == "!" else kept


def elapsed_only(resource: ResourceEntry) -> float | None:
    kept = resource._result  # a plain ok result: its elapsed time alone
    return kept if type(kept) is float else None


def link_record(link: LinkEntry) -> str:
    """``link`` as JSON: its fragment, its resource's URL ("" for its own URL without the fragment, as it
    nearly always is: see :func:`target_of`), its preset result, and whether it was emitted and settled."""
    resource = None if link.resource is None else link.resource.url
    if resource is not None and resource == link.url.partition("#")[0]:
        resource = ""
    preset = None if link.preset is None else result_to_json(link.preset)
    settled = link.referrers is None
    return json.dumps([link.fragment, resource, preset, link.emitted, settled], separators=(",", ":"))


def emitted_record(raw: bytes) -> bool:
    """Whether the :func:`link_record` ``raw`` is of a link with a verdict, read without decoding it (its
    last two items are whether it was emitted and settled).

    >>> emitted_record(b'["","",null,true,false]'), emitted_record(b'["","",null,false,false]')
    (True, False)
    """
    return raw.endswith((b",true,true]", b",true,false]"))


def target_of(url: str, target: str | None) -> str | None:
    """The URL of the resource of ``url``'s link, from the one its record holds (:func:`link_record`).

    >>> target_of("https://example.org/a#top", "")
    'https://example.org/a'
    >>> target_of("https://example.org/a", None) is None
    True
    """
    return url.partition("#")[0] if target == "" else target


def referrer_json(referrer: Referrer) -> str:
    return json.dumps([referrer.url, referrer.line, referrer.text], separators=(",", ":"))


_DECODE = json.JSONDecoder().decode


def decoded(raw: bytes | str) -> Any:
    """A record's JSON, decoded (as ``json.loads`` does, less the guess of a byte string's encoding: the
    coordinator decodes tens of records a page)."""
    return _DECODE(raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw)


def text_of(raw: bytes | str) -> str:
    return raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw


def referrer_from(raw: str, shared: dict[str, str]) -> Referrer:
    """A referrer from its record, with its page and text taken from ``shared`` when they were read before:
    one copy of a page's URL for all the links it refers to, where a report keeps them."""
    page, line, text = decoded(raw)
    return Referrer(shared.setdefault(page, page), line, shared.setdefault(text, text))
