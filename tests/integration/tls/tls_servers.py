"""Real TLS servers on 127.0.0.1 for the TLS-layer integration tests: a Python ``ssl`` server thread and
``openssl s_server``. The fixtures in ``conftest.py`` start them and stop them after each test::

    server = PyTLSServer(server_context(pki.server(), client_ca=pki.root.cert, tls="1.3"))
    ...
    server.close()
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import aiohttp
import pytest
from harness.ports import free_port
from tests.support.pki import CertFiles

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
)
_IO_TIMEOUT = 5.0
_MAX_REQUEST = 64 * 1024


class ThreadedListener:
    """A listener on 127.0.0.1 whose thread hands each accepted socket, one at a time, to ``_accepted``;
    stops on ``close()``. Subclasses set up their own state before calling ``__init__``, which starts
    the thread."""

    def __init__(self, name: str) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"{name}-{self.port}", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._accepted(raw)

    def _accepted(self, raw: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=_IO_TIMEOUT)


class PyTLSServer(ThreadedListener):
    """A threaded one-connection-at-a-time TLS server built on ``ssl``; stops on ``close()``.

    After a failed handshake it sends FIN and drains what the client already sent before closing, so
    the client reliably reads the alert instead of a TCP reset (the probe copes with resets itself;
    these tests are about what the ``ssl``/aiohttp client sees).
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self.handshake_errors: list[str] = []
        super().__init__("tls-server")

    def _accepted(self, raw: socket.socket) -> None:
        raw.settimeout(_IO_TIMEOUT)
        self._handle(self._context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False))

    def _handle(self, conn: ssl.SSLSocket) -> None:
        with conn:
            try:
                conn.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                self.handshake_errors.append(getattr(exc, "reason", None) or str(exc))
                _drain(conn)
                return
            try:
                _read_request(conn)
                conn.sendall(RESPONSE)
            except (ssl.SSLError, OSError):
                return


def _read_request(conn: ssl.SSLSocket) -> None:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _MAX_REQUEST:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk


def _drain(conn: ssl.SSLSocket) -> None:
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)  # also drops the SSL object: recv below reads the raw socket
        deadline = time.monotonic() + 1.0
        for _ in range(64):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([conn], [], [], left)[0] or not conn.recv(4096):
                return


def server_context(cert: CertFiles, *, client_ca: Path | None, tls: str | None) -> ssl.SSLContext:
    """A server context serving ``cert.chain``; ``tls`` pins "1.2" (as maximum) or "1.3" (only)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert.chain, cert.key)
    if client_ca is not None:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(client_ca)
    if tls == "1.2":
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    elif tls == "1.3":
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


class PyTLSServerFactory(Protocol):
    def __call__(
        self,
        cert: CertFiles,
        *,
        client_ca: Path | None = None,
        tls: str | None = None,
        leaf_only: bool = False,
    ) -> PyTLSServer: ...


@dataclass
class OpenSSLServer:
    """``openssl s_server`` requiring a valid client certificate (``-Verify 1 -verify_return_error``) and
    answering with ``-www``."""

    process: subprocess.Popen[bytes]
    port: int

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=_IO_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=_IO_TIMEOUT)


class OpenSSLServerFactory(Protocol):
    def __call__(self, cert: CertFiles, *, client_ca: Path, tls: str) -> OpenSSLServer: ...


def start_openssl_server(cert: CertFiles, *, client_ca: Path, tls: str) -> OpenSSLServer:
    port = free_port()
    args = [
        "openssl",
        "s_server",
        "-accept",
        f"127.0.0.1:{port}",
        "-cert",
        str(cert.cert),
        "-key",
        str(cert.key),
        "-CAfile",
        str(client_ca),
        "-Verify",
        "1",
        "-verify_return_error",  # without it s_server logs a bad certificate and carries on
        "-www",
        "-tls1_3" if tls == "1.3" else "-tls1_2",
    ]
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    server = OpenSSLServer(process, port)
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"openssl s_server exited with {process.returncode}: {stderr}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return server
        time.sleep(0.05)
    server.close()
    pytest.fail(f"openssl s_server did not listen on port {port} within 10 s")


async def fetch(url: str, context: ssl.SSLContext) -> int:
    """GET ``url`` with aiohttp and ``context``; the status (the body is read and dropped)."""
    timeout = aiohttp.ClientTimeout(total=_IO_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session, session.get(url, ssl=context) as response:
        await response.read()
        return response.status


async def fetch_error(url: str, context: ssl.SSLContext) -> aiohttp.ClientError:
    """The aiohttp exception a GET of ``url`` raises (fails the test when it succeeds)."""
    try:
        status = await fetch(url, context)
    except aiohttp.ClientError as exc:
        return exc
    pytest.fail(f"expected {url} to fail, it answered {status}")
