"""Name lookups for the aiohttp transport: many hosts at once, each name looked up once, and never longer than
the connect timeout.

A crawl links to hundreds of hosts. aiohttp's default resolver runs ``getaddrinfo`` on the event loop's
default thread pool (``min(32, cores + 4)`` threads: 6 on a 2-core machine), so 200 names at 100 ms each
take over 3 s. Two resolvers behind aiohttp's :class:`~aiohttp.abc.AbstractResolver`:

* :class:`SystemResolver` (the default): the system's resolver (``/etc/hosts``, ``resolv.conf``, NSS) on a
  thread pool of its own, wide enough for a crawl's hosts;
* :class:`StubResolver` (``--dns-server HOST:PORT``): asks that DNS server directly over UDP, for users
  behind split DNS and for tests, which must never ask the machine's resolver. It sends A queries (AAAA
  when a name has no A record), retries every second within the timeout, and keeps answers for their TTL
  (at most :data:`MAX_TTL`).

Both share answers between concurrent lookups of one name, and bound every lookup by ``timeout`` (the
run's connect timeout): a name that does not resolve in time fails with ``net.dns``, like one that does
not exist. The connector keeps its own cache too (``ttl_dns_cache``).

    resolver = StubResolver(parse_nameserver("127.0.0.1:5353"), timeout=10.0)
    addresses = await resolver.resolve("example.test", 443)
"""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from aiohttp.abc import AbstractResolver, ResolveResult

from linkdoctor.config import CheckConfig
from linkdoctor.config_values import Nameserver, parse_nameserver

MAX_TTL: Final = 300.0
NEGATIVE_TTL: Final = 30.0
CACHE_SIZE: Final = 10_000
SYSTEM_THREADS: Final = 64
RETRY_INTERVAL: Final = 1.0
_A, _AAAA, _CNAME = 1, 28, 5
_NUMERIC = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV

Lookup = Callable[[str], Awaitable[tuple[list[tuple[socket.AddressFamily, str]], float]]]


def _results(host: str, port: int, found: list[tuple[socket.AddressFamily, str]]) -> list[ResolveResult]:
    return [
        ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=_NUMERIC)
        for family, address in found
    ]


class _SharedLookups:
    """Concurrent lookups of one name share one query; answers (and failures, briefly) are kept for their
    TTL, up to :data:`CACHE_SIZE` names."""

    def __init__(self, lookup: Lookup, timeout: float, clock: Callable[[], float]) -> None:
        self._lookup = lookup
        self._timeout = timeout
        self._clock = clock
        self._cache: dict[str, tuple[float, list[tuple[socket.AddressFamily, str]] | OSError]] = {}
        self._running: dict[str, asyncio.Future[list[tuple[socket.AddressFamily, str]]]] = {}

    async def get(self, name: str) -> list[tuple[socket.AddressFamily, str]]:
        cached = self._cache.get(name)
        if cached is not None and cached[0] > self._clock():
            if isinstance(cached[1], OSError):
                raise cached[1]
            return cached[1]
        running = self._running.get(name)
        if running is None:
            running = self._running[name] = asyncio.ensure_future(self._fetch(name))
            running.add_done_callback(lambda done: self._settled(name, done))
        return await asyncio.shield(running)

    def _settled(self, name: str, done: asyncio.Future[list[tuple[socket.AddressFamily, str]]]) -> None:
        self._running.pop(name, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have given up (the connect timeout)

    async def _fetch(self, name: str) -> list[tuple[socket.AddressFamily, str]]:
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        try:
            async with asyncio.timeout(self._timeout):
                found, ttl = await self._lookup(name)
        except TimeoutError:
            error = socket.gaierror(socket.EAI_AGAIN, f"no DNS answer for {name} within {self._timeout:g} s")
            self._cache[name] = (self._clock() + min(NEGATIVE_TTL, self._timeout), error)
            raise error from None
        except OSError as exc:
            self._cache[name] = (self._clock() + NEGATIVE_TTL, exc)
            raise
        self._cache[name] = (self._clock() + min(ttl, MAX_TTL), found)
        return found


def _host(sockaddr: tuple[str, int] | tuple[str, int, int, int] | tuple[int, bytes]) -> str:
    """The address of a ``getaddrinfo`` result; an IPv6 link-local one keeps its scope.

    >>> _host(("fe80::1", 80, 0, 2)), _host(("127.0.0.1", 80))
    ('fe80::1%2', '127.0.0.1')
    """
    if len(sockaddr) == 4 and sockaddr[3]:
        return f"{sockaddr[0]}%{sockaddr[3]}"
    return str(sockaddr[0])


class SystemResolver(AbstractResolver):
    """The system's resolver (``getaddrinfo``) on :data:`SYSTEM_THREADS` threads of its own."""

    def __init__(self, *, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._executor = ThreadPoolExecutor(max_workers=SYSTEM_THREADS, thread_name_prefix="linkdoctor-dns")
        self._family = socket.AF_UNSPEC
        self._lookups = _SharedLookups(self._lookup, timeout, clock)

    async def _lookup(self, name: str) -> tuple[list[tuple[socket.AddressFamily, str]], float]:
        loop = asyncio.get_running_loop()
        infos = await loop.run_in_executor(
            self._executor,
            lambda: socket.getaddrinfo(name, 80, self._family, socket.SOCK_STREAM, 0, socket.AI_ADDRCONFIG),
        )
        found: list[tuple[socket.AddressFamily, str]] = list(
            dict.fromkeys(
                (socket.AddressFamily(family), _host(sockaddr)) for family, _, _, _, sockaddr in infos
            )
        )
        return found, MAX_TTL  # getaddrinfo gives no TTL

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._lookups.get(host)
        return _results(host, port, [f for f in found if family in (socket.AF_UNSPEC, f[0])] or found)

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class StubResolver(AbstractResolver):
    """Asks the DNS server ``nameserver`` directly (UDP), A records first, AAAA when a name has none."""

    def __init__(
        self, nameserver: Nameserver, *, timeout: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._server = nameserver
        self._lookups = _SharedLookups(self._lookup, timeout, clock)

    async def _lookup(self, name: str) -> tuple[list[tuple[socket.AddressFamily, str]], float]:
        found, ttl = await query(self._server, name, _A)
        if not found:
            found, ttl = await query(self._server, name, _AAAA)
        if not found:
            raise socket.gaierror(socket.EAI_NODATA, f"{name} has no address")
        return found, ttl

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host == "localhost" or host.endswith(".localhost"):  # RFC 6761: never sent to a server
            return _results(host, port, [(socket.AF_INET, "127.0.0.1")])
        return _results(host, port, await self._lookups.get(host.rstrip(".").lower()))

    async def close(self) -> None:
        return None


# --- the wire format (RFC 1035), as much as a stub resolver needs ----------------------------------------------
def encode_query(ident: int, name: str, qtype: int) -> bytes:
    """A recursive query for ``name``.

    >>> encode_query(1, "a.test", 1).hex()
    '000101000001000000000000016104746573740000010001'
    """
    labels = []
    for label in name.split("."):
        try:
            raw = label.encode("idna") if not label.isascii() else label.encode()
        except UnicodeError:
            raise socket.gaierror(socket.EAI_NONAME, f"{name!r} is not a valid host name") from None
        if not 0 < len(raw) < 64:
            raise socket.gaierror(socket.EAI_NONAME, f"{name!r} is not a valid host name")
        labels.append(bytes([len(raw)]) + raw)
    return (
        struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)
        + b"".join(labels)
        + b"\0"
        + struct.pack("!HH", qtype, 1)
    )


def _skip_name(data: bytes, offset: int) -> int:
    while True:
        length = data[offset]
        if length & 0xC0 == 0xC0:
            return offset + 2
        if length == 0:
            return offset + 1
        offset += 1 + length


def decode_answer(data: bytes, ident: int, name: str) -> tuple[list[tuple[socket.AddressFamily, str]], float]:
    """The addresses (and the smallest TTL) in the answer to query ``ident``; ``gaierror`` for a name that does
    not exist or a server failure, ``ValueError`` for a packet that is not that answer."""
    if len(data) < 12:
        raise ValueError("short DNS packet")
    got, flags, qdcount, ancount = struct.unpack("!HHHH", data[:8])
    if got != ident or not flags & 0x8000:
        raise ValueError("not our answer")
    rcode = flags & 0x000F
    if rcode == 3:
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: no such name (NXDOMAIN)")
    if rcode != 0:
        raise socket.gaierror(socket.EAI_FAIL, f"{name}: the DNS server answered with error {rcode}")
    offset = 12
    for _ in range(qdcount):
        offset = _skip_name(data, offset) + 4
    found: list[tuple[socket.AddressFamily, str]] = []
    ttl = MAX_TTL
    for _ in range(ancount):
        offset = _skip_name(data, offset)
        rtype, _rclass, rttl, length = struct.unpack("!HHIH", data[offset : offset + 10])
        rdata = data[offset + 10 : offset + 10 + length]
        offset += 10 + length
        if rtype == _A and length == 4:
            found.append((socket.AF_INET, socket.inet_ntop(socket.AF_INET, rdata)))
            ttl = min(ttl, float(rttl))
        elif rtype == _AAAA and length == 16:
            found.append((socket.AF_INET6, socket.inet_ntop(socket.AF_INET6, rdata)))
            ttl = min(ttl, float(rttl))
    return found, ttl


class _Answer(asyncio.DatagramProtocol):
    def __init__(self, ident: int, name: str) -> None:
        self.ident, self.name = ident, name
        self.done: asyncio.Future[tuple[list[tuple[socket.AddressFamily, str]], float]]
        self.done = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        if self.done.done():
            return
        try:
            self.done.set_result(decode_answer(data, self.ident, self.name))
        except socket.gaierror as exc:
            self.done.set_exception(exc)
        except (ValueError, IndexError, struct.error):
            pass  # not the answer to this query (or garbage): keep waiting

    def error_received(self, exc: Exception) -> None:
        if not self.done.done() and isinstance(exc, OSError):
            self.done.set_exception(exc)


async def query(
    server: Nameserver, name: str, qtype: int
) -> tuple[list[tuple[socket.AddressFamily, str]], float]:
    """Ask ``server`` for ``name``'s records of ``qtype`` over UDP, resending every :data:`RETRY_INTERVAL`
    seconds until an answer comes (the caller bounds the wait)."""
    ident = int.from_bytes(os.urandom(2), "big")
    packet = encode_query(ident, name, qtype)
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _Answer(ident, name), remote_addr=server
    )
    try:
        while True:
            transport.sendto(packet)
            done, _ = await asyncio.wait({protocol.done}, timeout=RETRY_INTERVAL)
            if done:
                return protocol.done.result()
    finally:
        transport.close()


def make_resolver(config: CheckConfig) -> AbstractResolver:
    """The run's resolver: ``config.dns_server`` when set, else the system's; lookups bounded by the connect
    timeout."""
    if config.dns_server:
        return StubResolver(parse_nameserver(config.dns_server), timeout=config.connect_timeout)
    return SystemResolver(timeout=config.connect_timeout)
