"""A small DNS server on 127.0.0.1 for tests: it answers A queries for names under its zone with one address,
after a delay (a slow resolver), AAAA queries with no records, and anything else with NXDOMAIN. It counts
the queries it gets, so a test can tell that lookups were shared and cached. Tests ask it through
``--dns-server`` and never the machine's resolver.

    with SlowDNS(zone="dns.test", delay=0.1) as dns:
        config = CheckConfig(dns_server=dns.address)

Hand-written wire format (RFC 1035), independent of the resolver under test.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import struct
import threading
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self, cast

_A, _AAAA = 1, 28


def _question(packet: bytes) -> tuple[str, int, int]:
    """(name, qtype, end offset) of the first question (no compression in questions we get)."""
    labels, offset = [], 12
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1 : offset + 1 + length].decode("ascii", "replace"))
        offset += 1 + length
    qtype = struct.unpack("!H", packet[offset + 1 : offset + 3])[0]
    return ".".join(labels).lower(), qtype, offset + 5


def answer(packet: bytes, zone: str, address: str, ttl: int = 300) -> bytes:
    """The reply to ``packet``: an A record for names under ``zone``, no record for their AAAA, else
    NXDOMAIN."""
    ident = packet[:2]
    name, qtype, end = _question(packet)
    question = packet[12:end]
    known = name == zone or name.endswith("." + zone)
    rcode = 0 if known else 3
    records = b""
    if known and qtype == _A:
        # a name compressed as a pointer to the question (offset 12), then type A, class IN, TTL, 4 bytes
        records = b"\xc0\x0c" + struct.pack("!HHIH", _A, 1, ttl, 4) + socket.inet_aton(address)
    flags = 0x8180 | rcode  # a response, recursion desired and available
    header = ident + struct.pack("!HHHHH", flags, 1, 1 if records else 0, 0, 0)
    return header + question + records


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: SlowDNS) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        try:
            name, qtype, _ = _question(data)
            reply = answer(data, self.server.zone, self.server.answer_address)
        except (IndexError, struct.error):
            return
        with self.server.lock:
            self.server.queries[(name, qtype)] += 1
        loop = asyncio.get_running_loop()
        loop.call_later(self.server.delay, self._send, reply, addr)

    def _send(self, reply: bytes, addr: tuple[str | int, ...]) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)


@dataclass
class SlowDNS:
    """The server, on its own thread and event loop; ``address`` is ``127.0.0.1:PORT``."""

    zone: str = "dns.test"
    delay: float = 0.1
    answer_address: str = "127.0.0.1"
    queries: collections.Counter[tuple[str, int]] = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def a_queries(self) -> collections.Counter[str]:
        with self.lock:
            return collections.Counter({name: n for (name, qtype), n in self.queries.items() if qtype == _A})

    def __enter__(self) -> Self:
        loop = self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        transports: list[asyncio.BaseTransport] = []

        async def start() -> None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=("127.0.0.1", 0)
            )
            transports.append(transport)
            self.port = transport.get_extra_info("sockname")[1]

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(start())
            ready.set()
            loop.run_forever()
            for transport in transports:
                transport.close()
            loop.run_until_complete(asyncio.sleep(0))
            loop.close()

        self._thread = threading.Thread(target=run, name="slow-dns", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the test DNS server did not start")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)
