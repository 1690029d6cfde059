"""A TCP proxy on 127.0.0.1 that counts the bytes a server sends through it, so a test can tell how much of
what a hostile server offers a client really downloaded::

    async with byte_proxy(upstream_port) as proxy:
        ...  # connect to proxy.port
        assert proxy.sent < 100 * 1024 * 1024
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

_CHUNK = 65536


@dataclass
class ByteProxy:
    """``sent``: bytes from the server to clients so far; ``port``: where clients connect."""

    upstream: int
    port: int = 0
    sent: int = 0
    received: int = 0
    connections: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, down: bool) -> None:
        try:
            while chunk := await reader.read(_CHUNK):
                if down:
                    self.sent += len(chunk)
                else:
                    self.received += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof():
                    writer.write_eof()
                else:
                    writer.close()

    async def handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:
            client_w.close()
            return
        up = asyncio.ensure_future(self._pump(client_r, server_w, down=False))
        down = asyncio.ensure_future(self._pump(server_r, client_w, down=True))
        try:
            # when either side ends, the other gets EOF; the connection is done when both are
            await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if down.done():  # the server is done: a client still sending is cut off
                up.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
        finally:
            for w in (client_w, server_w):
                with contextlib.suppress(Exception):
                    w.transport.abort()


@contextlib.asynccontextmanager
async def byte_proxy(upstream: int) -> AsyncIterator[ByteProxy]:
    """Proxy 127.0.0.1:``upstream`` on a free port until the block exits."""
    proxy = ByteProxy(upstream)

    async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        proxy._tasks.add(task)
        try:
            await proxy.handle(r, w)
        except asyncio.CancelledError:
            pass  # the proxy is closing; asyncio's stream callback would log a cancelled handler
        finally:
            proxy._tasks.discard(task)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(proxy._tasks):
            task.cancel()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)
