"""Ports on 127.0.0.1 for the real servers of the tests and the benchmarks: free ones to listen on, one
that accepts connections and never answers, and one where connections are refused.

    port = free_port()                      # nginx, PostgreSQL, Redis, uvicorn listen here
    with silent_listener() as port: ...     # the TCP handshake completes, no byte ever comes
    with closed_port() as port: ...         # connecting is refused
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    """A TCP endpoint on 127.0.0.1."""

    port: int
    host: str = "127.0.0.1"

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it)."""
    (port,) = free_ports(1)
    return port


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago. Use it for one config's
    several listeners: separate :func:`free_port` calls may return the same port twice."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@contextmanager
def silent_listener() -> Iterator[int]:
    """A port whose connections complete the TCP handshake but never receive a byte.

    The socket listens and is never ``accept()``-ed: the kernel finishes handshakes into the
    backlog, so clients connect and then wait for a response that never comes.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port: int = sock.getsockname()[1]
        yield port


@contextmanager
def closed_port() -> Iterator[int]:
    """A port with nothing listening: connecting is refused.

    The port stays bound (without ``listen()``) for the duration, so no other process can take it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        yield port
