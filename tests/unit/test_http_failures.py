"""A failed request's sentence (engine/http/failures.py), from aiohttp's own exception types: never their
reprs, addresses or connection keys."""

from __future__ import annotations

import socket
import ssl

import aiohttp
import pytest

from linkdoctor.engine.http.aiohttp_transport import error_kind
from linkdoctor.engine.http.failures import describe, scrub

INTERNALS = ("0x", "ssl:", "SSLContext", "Connect call failed", "object at", "<")


def key(host: str, port: int, tls: ssl.SSLContext | bool) -> aiohttp.client_reqrep.ConnectionKey:
    return aiohttp.client_reqrep.ConnectionKey(host, port, True, tls, None, None, None)


def cases() -> dict[str, BaseException]:
    context = ssl.create_default_context()
    refused = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)")
    unreachable = OSError(113, "No route to host")
    verify = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    verify.verify_message = "certificate has expired"
    verify.verify_code = 10
    wrong_version = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    wrong_version.reason = "WRONG_VERSION_NUMBER"
    return {
        "refused": aiohttp.ClientConnectorError(key("127.0.0.1", 1, context), refused),
        "unreachable": aiohttp.ClientConnectorError(key("10.9.9.9", 443, False), unreachable),
        "dns": aiohttp.ClientConnectorDNSError(
            key("no.such.invalid", 443, context),
            socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        ),
        "certificate": aiohttp.ClientConnectorCertificateError(key("127.0.0.1", 8443, context), verify),
        "plain port": aiohttp.ClientConnectorSSLError(key("127.0.0.1", 8080, context), wrong_version),
        "payload": aiohttp.ClientPayloadError(
            "Response payload is not completed: <TransferEncodingError: 400, message='Not enough data for "
            "satisfy transfer length header.'>"
        ),
        "disconnected": aiohttp.ServerDisconnectedError(),
    }


EXPECTED = {
    "refused": "connection refused by 127.0.0.1:1: nothing listens on that port",
    "unreachable": "could not connect to 10.9.9.9:443: no route to host",
    "dns": "the host name no.such.invalid could not be resolved",
    "certificate": "certificate verification failed: certificate has expired",
    "plain port": "the TLS handshake failed: the port answered something that is not TLS (plain HTTP on an "
    "https:// link?)",
    "payload": "the response body was malformed: Response payload is not completed: Not enough data for "
    "satisfy transfer length header.",
    "disconnected": "the server closed the connection without answering",
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_failure_is_one_human_sentence(name: str) -> None:
    exc = cases()[name]
    assert str(exc) and any(
        part in str(exc) for part in ("ssl:", "<", "[", "Server disconnected")
    )  # raw text

    sentence = describe(exc, error_kind(exc)[1])

    assert sentence == EXPECTED[name]
    assert not any(internal in sentence for internal in INTERNALS)


def test_scrub_removes_reprs_addresses_and_connection_keys() -> None:
    text = "Cannot connect to host a.example:443 ssl:<ssl.SSLContext object at 0x7f3a2c1b5e40> [Connect call failed]"
    assert scrub(text) == "Cannot connect to host a.example:443"
    assert scrub("Cannot connect to host a.example:443 ssl:default [Name or service not known]") == (
        "Cannot connect to host a.example:443"
    )
