"""The transport over aiohttp: one session (one connection pool) per run, and aiohttp's exceptions turned
into neutral :class:`~linkdoctor.engine.transport.TransportError` values.

This and :mod:`linkdoctor.engine.http.session` are the only modules that import aiohttp; everything above
speaks :class:`~linkdoctor.engine.transport.Transport`. What a server sends as text (the reason phrase,
header values) leaves here as readable UTF-8 whatever its bytes were (see :func:`readable`)::

    async with AiohttpTransport(config, guard=guard) as transport:
        report = await Crawler(config, transport=transport, tls=tls).run(inputs)
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
from collections.abc import Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Final, Self

import aiohttp

from linkdoctor.config import CheckConfig
from linkdoctor.engine.http.dns import make_resolver
from linkdoctor.engine.http.failures import describe
from linkdoctor.engine.http.inflate import ACCEPT_ENCODING, ENCODINGS, InflateError, Inflater
from linkdoctor.engine.http.session import create_session
from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.engine.transport import Answer, BodyLimit, TransportError
from linkdoctor.models import ErrorKind
from linkdoctor.printable import shown

_CHUNK = 65536
# The standard reason phrases, one shared copy each (a crawl keeps thousands of "OK"s, and a result whose
# reason is the shared copy needs no rewrite to share it: Crawler._shared).
_STANDARD_REASONS: Final = {status.phrase: status.phrase for status in HTTPStatus}


def _raw_bytes(value: str) -> bytes:
    """The bytes aiohttp decoded into ``value``: its parser keeps bytes that are not UTF-8 as lone
    surrogates (``surrogateescape``)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no byte made
        return value.encode("utf-8", "backslashreplace")


def readable(value: str) -> str:
    r"""Text a server sent (a reason phrase, a header value), safe to store and show: UTF-8 where its bytes
    are UTF-8; other bytes and control characters as ``\xNN``.

    >>> readable("Not\x01Found\x7f\udcff")
    'Not\\x01Found\\x7f\\xff'
    >>> readable("Caf\u00e9")
    'Café'
    """
    if value.isascii() and value.isprintable():
        return value
    # Control characters too as \xNN: never stored raw (PostgreSQL refuses NUL), never sent to a terminal.
    return shown(_raw_bytes(value).decode("utf-8", "backslashreplace"))


def readable_location(value: str) -> str:
    r"""A ``Location`` value as a URL: bytes outside printable ASCII percent-encoded, as browsers do.

    >>> readable_location("/caf\u00e9 \udcff")
    '/caf%C3%A9%20%FF'
    """
    if value.isascii() and value.isprintable() and " " not in value:
        return value
    return "".join(chr(b) if 0x20 < b < 0x7F else f"%{b:02X}" for b in _raw_bytes(value.strip()))


class AiohttpTransport:
    """Sends requests over one aiohttp session; see :class:`~linkdoctor.engine.transport.Transport`.

    Create it inside the event loop that uses it, and close it (or use it as an async context manager).
    ``guard`` vets every connection (the server mode's SSRF guard).
    """

    def __init__(self, config: CheckConfig, *, guard: SSRFGuard | None = None) -> None:
        self._resolver = make_resolver(config)
        self._session = create_session(config, guard=guard, resolver=self._resolver)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()
        await self._resolver.close()

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | bool,
        body_limit: BodyLimit,
    ) -> Answer:
        try:
            async with self._session.request(
                method,
                url,
                # gzip and deflate only, inflated here in capped steps (a bomb costs little: inflate.py)
                headers={**headers, "Accept-Encoding": ACCEPT_ENCODING},
                allow_redirects=False,
                ssl=tls,
                auto_decompress=False,
            ) as response:
                return await _read(response, url, body_limit)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, ssl.SSLError) as exc:
            kind, code = error_kind(exc)
            raise TransportError(kind, code, readable(describe(exc, code))) from exc


def _readable_headers(raw: Mapping[str, str]) -> dict[str, str]:
    """Headers by lower-case name, each name and value :func:`readable`: checked all at once first, since
    nearly every answer's headers are plain printable ASCII (a dozen headers on each of thousands of
    answers)."""
    items = raw.items()
    every = "".join(itertools.chain.from_iterable(items))
    if every.isascii() and every.isprintable():
        return {k.lower(): v for k, v in items}
    return {readable(k).lower(): readable(v) for k, v in items}


async def _read(response: aiohttp.ClientResponse, url: str, body_limit: BodyLimit) -> Answer:
    headers = _readable_headers(response.headers)
    if "location" in headers:
        headers["location"] = readable_location(response.headers.getone("location"))
    limit = body_limit(response.status, headers, url)
    body: bytes | None = None
    truncated = False
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if limit and response.method != "HEAD" and encoding in ENCODINGS:
        body, truncated = await _read_inflated(response.content, limit, Inflater.for_encoding(encoding))
    elif limit and response.method != "HEAD" and encoding not in ("", "identity"):
        pass  # an encoding never asked for (br, zstd …): its bytes are not the document
    elif limit and response.method != "HEAD":
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = await response.content.read(min(_CHUNK, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        else:
            truncated = not response.content.at_eof()
        body = b"".join(chunks)
    reason = response.reason or ""
    return Answer(
        response.status, _STANDARD_REASONS.get(reason) or readable(reason), headers, body, truncated
    )


async def _read_inflated(content: aiohttp.StreamReader, limit: int, inflater: Inflater) -> tuple[bytes, bool]:
    """Up to ``limit`` inflated bytes, and whether the body went on (past the limit, or a bomb cut early)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit and not inflater.bomb and not inflater.finished:
        raw = await content.read(_CHUNK)
        if not raw:
            break
        try:
            chunk = inflater.feed(raw, room=limit - size)
        except InflateError as exc:
            raise aiohttp.ClientPayloadError(str(exc)) from exc
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), inflater.bomb or (size >= limit and not inflater.finished)


def error_kind(exc: BaseException) -> tuple[ErrorKind, str]:
    """Map an aiohttp or socket exception to (error kind, diagnosis code), by type and errno, never by
    message text."""
    # Imported on the first failure: pyOpenSSL costs start-up time that a healthy run never needs.
    from linkdoctor.classify.tls import classify_tls_error

    tls_code = classify_tls_error(exc)
    if tls_code is not None:
        return ErrorKind.TLS, tls_code
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError | TimeoutError):
        return ErrorKind.TIMEOUT, "net.timeout"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return ErrorKind.CONNECTION_CLOSED, "net.connection-closed"
    if isinstance(exc, aiohttp.InvalidURL):
        return ErrorKind.INVALID_URL, "url.invalid"
    if isinstance(exc, aiohttp.ClientConnectorError):
        os_error = exc.os_error
        if isinstance(os_error, socket.gaierror) or isinstance(exc, aiohttp.ClientConnectorDNSError):
            return ErrorKind.DNS, "net.dns"
        if isinstance(os_error, ConnectionRefusedError):
            return ErrorKind.REFUSED, "net.refused"
        if isinstance(os_error, TimeoutError):
            return ErrorKind.TIMEOUT, "net.timeout"
        return ErrorKind.REFUSED, "net.refused"
    if isinstance(exc, aiohttp.ClientOSError | ConnectionResetError | BrokenPipeError):
        return ErrorKind.RESET, "net.reset"
    if isinstance(exc, aiohttp.ClientPayloadError | aiohttp.ClientResponseError):
        return ErrorKind.PROTOCOL, "http.protocol-error"
    return ErrorKind.OTHER, "http.protocol-error"
