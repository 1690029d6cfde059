"""An in-memory site behind the engine's transport seam (:mod:`linkdoctor.engine.transport`), for crawls
that open no socket. A test gives the replies as a mapping of URLs or as a function of the URL::

    transport = MemoryTransport({"http://site.test/": Reply(200, b"<a href='/a'>a</a>")})
    report = await Crawler(CheckConfig(), transport=transport).run(collect_inputs(["http://site.test/"]))

Anything without a reply is a plain-text 404; hosts in ``down`` refuse the connection. The body is cut to
the checker's limit as a real transport would, and ``sent`` records every ``(method, url)``.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from linkdoctor.engine.transport import Answer, BodyLimit, TransportError
from linkdoctor.models import ErrorKind
from linkdoctor.urls import host_of

HTML = (("content-type", "text/html; charset=utf-8"),)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = HTML
    head_status: int | None = None  # a server that answers HEAD differently


NOT_FOUND = Reply(404, b"not found", (("content-type", "text/plain"),))


def redirect(location: str, status: int = 301) -> Reply:
    return Reply(status, headers=(("location", location),))


@dataclass
class MemoryTransport:
    """Answers from ``replies`` (a mapping of URLs, or a function of the URL that may return None)."""

    replies: Mapping[str, Reply] | Callable[[str], Reply | None]
    down: frozenset[str] = frozenset()
    sent: list[tuple[str, str]] = field(default_factory=list)

    async def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        tls: ssl.SSLContext | bool,
        body_limit: BodyLimit,
    ) -> Answer:
        self.sent.append((method, url))
        if host_of(url) in self.down:
            raise TransportError(ErrorKind.REFUSED, "net.refused", "connection refused")
        found = self.replies.get(url) if isinstance(self.replies, Mapping) else self.replies(url)
        reply = found or NOT_FOUND
        status = reply.head_status if method == "HEAD" and reply.head_status else reply.status
        answer_headers = dict(reply.headers)
        limit = body_limit(status, answer_headers, url)
        if not limit or method == "HEAD":
            return Answer(status, "", answer_headers, None, False)
        return Answer(status, "", answer_headers, reply.body[:limit], len(reply.body) > limit)
