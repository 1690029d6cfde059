"""What a failed request says: aiohttp, socket and ``ssl`` exceptions turned into one human sentence each.

A library's message is written for its own developers (``Cannot connect to host 127.0.0.1:1
ssl:<ssl.SSLContext object at 0x7f…> [Connect call failed ('127.0.0.1', 1)]``). Reports show the
sentence built here beside the diagnosis code instead, from the exception's structured fields (its
type, errno, host and port, OpenSSL's verify message and reason mnemonic), never a repr::

    describe(exc, "net.refused")   # 'connection refused by 127.0.0.1:1: nothing listens on that port'

Whatever falls through to a library's own text still passes :func:`scrub`, which removes object
reprs, addresses and aiohttp's ``ssl:…`` connection keys.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Final

import aiohttp

_MAX = 300
# aiohttp's connection-key noise: "ssl:default", "ssl:<ssl.SSLContext object at 0x…>", "ssl:True".
_SSL_KEY: Final = re.compile(r"\s*ssl:(?:<[^>]*>|\S+)")
_REPR: Final = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")
_ADDRESS: Final = re.compile(r"\s*\bat 0x[0-9a-fA-F]+")
_CONNECT_CALL: Final = re.compile(r"\s*\[[^\]]*\]")
# An aiohttp error's repr inside another's message: <TransferEncodingError: 400, message='…'>.
_NESTED: Final = re.compile(r"<\w+: \d+, message=(['\"])(.*?)\1>")
# OpenSSL reason mnemonics worth a hint, by what the user can do about them.
_TLS_REASONS: Final = {
    "WRONG_VERSION_NUMBER": "the port answered something that is not TLS (plain HTTP on an https:// link?)",
    "HTTP_REQUEST": "the port answered something that is not TLS (plain HTTP on an https:// link?)",
    "RECORD_LAYER_FAILURE": "the port answered something that is not TLS",
    "UNSUPPORTED_PROTOCOL": "no TLS version in common with the server",
    "TLSV1_ALERT_PROTOCOL_VERSION": "no TLS version in common with the server",
    "NO_PROTOCOLS_AVAILABLE": "no TLS version in common with the server",
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server refused the handshake (no common cipher, or a client "
    "certificate it wanted)",
}


def describe(exc: BaseException, code: str) -> str:
    """One sentence for a request that got no HTTP answer, with no library internals.

    >>> describe(TimeoutError(), "net.timeout")
    'timed out'
    """
    if isinstance(exc, asyncio.TimeoutError | TimeoutError | aiohttp.ServerTimeoutError):
        return "timed out"
    if code.startswith("tls."):
        return _tls(exc)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"not a valid URL: {scrub(str(exc.url))}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _connect(exc, code)
    if isinstance(exc, ConnectionResetError) or (
        isinstance(exc, aiohttp.ClientOSError) and isinstance(exc.__cause__ or exc, ConnectionResetError)
    ):
        return "the server reset the connection"
    if isinstance(exc, OSError) and exc.strerror:
        return f"network error: {_lowered(exc.strerror)}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the response body was malformed: {scrub(str(exc)) or 'incomplete'}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"malformed HTTP response: {scrub(exc.message) or 'unreadable'}"
    return scrub(str(exc)) or type(exc).__name__


def _connect(exc: aiohttp.ClientConnectorError, code: str) -> str:
    where = f"{exc.host}:{exc.port}"
    if code == "net.dns":
        return f"the host name {exc.host} could not be resolved"
    if isinstance(exc.os_error, ConnectionRefusedError):
        return f"connection refused by {where}: nothing listens on that port"
    if code == "net.timeout":
        return f"connecting to {where} timed out"
    reason = exc.os_error.strerror if exc.os_error.strerror else ""
    return f"could not connect to {where}" + (f": {_lowered(reason)}" if reason else "")


def _lowered(text: str) -> str:
    """An OS error's sentence continued after a colon: its first letter lowered, the rest as written
    (``Connection refused`` reads ``connection refused``; ``SSRF``, a CIDR or an option name keep their case)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def _tls(exc: BaseException) -> str:
    for inner in _chain(exc):
        message = getattr(inner, "verify_message", None)  # aiohttp's subclass lacks it; it wraps ssl's
        if isinstance(inner, ssl.SSLCertVerificationError) and isinstance(message, str) and message:
            return f"certificate verification failed: {message}"
    for inner in _chain(exc):
        if isinstance(inner, ssl.SSLError):
            reason = str(getattr(inner, "reason", "") or "")
            hint = _TLS_REASONS.get(reason.upper())
            if hint:
                return f"the TLS handshake failed: {hint}"
            if reason:
                return f"the TLS handshake failed: {reason.lower().replace('_', ' ')}"
    return "the TLS handshake failed"


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(found) < 16:
        current = pending.pop(0)
        if any(current is seen for seen in found):
            continue
        found.append(current)
        for attribute in ("certificate_error", "os_error", "__cause__", "__context__"):
            inner = getattr(current, attribute, None)
            if isinstance(inner, BaseException):
                pending.append(inner)
    return found


def scrub(text: str) -> str:
    """``text`` without object reprs, memory addresses, aiohttp's ``ssl:`` keys and bracketed call
    details, cut to 300 characters.

    >>> scrub("Cannot connect to host a:1 ssl:<ssl.SSLContext object at 0x7f12> [Connect call failed]")
    'Cannot connect to host a:1'
    """
    text = _NESTED.sub(lambda found: found[2], text)
    text = _SSL_KEY.sub("", text)
    text = _REPR.sub("", text)
    text = _ADDRESS.sub("", text)
    text = _CONNECT_CALL.sub("", text).strip()
    return text if len(text) <= _MAX else text[: _MAX - 3] + "..."
