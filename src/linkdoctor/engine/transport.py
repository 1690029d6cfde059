"""The HTTP transport seam: send one request, get back the answer or a neutral error.

The checker (:class:`~linkdoctor.engine.check.HttpChecker`) owns the policy: redirects hop by hop, HEAD then
GET, retries, which bodies to read and how far. A :class:`Transport` owns the wire: it sends one request
(never following a redirect), reads at most as much of the body as the checker's :data:`BodyLimit` asks
for, and turns every failure to get an HTTP answer into a :class:`TransportError` that carries an
:class:`~linkdoctor.models.ErrorKind` and a diagnosis code, never a library's exception.

:class:`~linkdoctor.engine.http.aiohttp_transport.AiohttpTransport` is the real one. Anything with the same
``send`` will do, for example one that answers from a dict in a test::

    class Pages:
        async def send(self, method, url, *, headers, tls, body_limit):
            html = SITE[url]
            limit = body_limit(200, {"content-type": "text/html"}, url)
            return Answer(200, "OK", {"content-type": "text/html"}, html[:limit] if limit else None, False)

    report = await Crawler(config, transport=Pages()).run(collect_inputs(["https://example.org/"]))
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from linkdoctor.models import ErrorKind

BodyLimit = Callable[[int, Mapping[str, str], str], int]
"""How many body bytes to read of an answer, from its status, its headers (lower-case names) and the
request's URL; 0 reads none. A transport never reads a body for ``HEAD``."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One HTTP answer: header names in lower case, and the body read up to the limit (``None`` when none
    was read). ``truncated`` says the body went on past the limit."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes | None
    truncated: bool


class TransportError(Exception):
    """A request that got no HTTP answer (DNS, refused, reset, timeout, TLS, a malformed reply …).

    ``kind`` and ``code`` (a diagnosis code such as ``net.dns`` or ``tls.server-cert-expired``) are what the
    checker reports; the message is short and holds no secrets. An HTTP error status is an :class:`Answer`,
    never this.
    """

    def __init__(self, kind: ErrorKind, code: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.code = code


class Transport(Protocol):
    """Sends one request for the checker (see the module docstring)."""

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | bool,
        body_limit: BodyLimit,
    ) -> Answer:
        """Send ``method url`` with ``headers`` (added to the transport's own: user agent, cookies) and
        ``tls`` (a context for this host, or ``True`` for the default verification); raise
        :class:`TransportError` when no answer came."""
        ...
