"""The size of a request body ``linkdoctor serve`` reads: at most :data:`MAX_BODY` bytes, checked before any
route (and so before anyone is authenticated) reads it.

FastAPI reads and parses a JSON body before the route's dependencies run, so without this an anonymous
client could make the server hold a body of any size in memory (a 200 MB ``POST /api/v1/sites`` took half a
gigabyte). A declared ``Content-Length`` over the limit is refused with 413 before a byte of the body is
read; a chunked body is counted as it arrives and refused at the first chunk past the limit. The largest
honest request, a site with every list at its maximum, is under 150 KB (under 1 MiB even with every character
escaped as ``\\uXXXX``).

>>> # app.add_middleware(BodyLimit, limit=MAX_BODY)
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY: Final = 1024 * 1024


class BodyLimit:
    """ASGI middleware: a request whose body passes ``limit`` bytes gets 413, and the app sees the client
    leave (what it answers then is dropped)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    if not started:
                        await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent: whatever the app answers to the "disconnect" is dropped
            started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"the request body is larger than {self.limit:,} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    """The declared body length; an unreadable one counts as too long (uvicorn refuses it anyway)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() and len(text) <= 18 else 2**63
    return None
