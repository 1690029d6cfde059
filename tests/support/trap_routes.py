"""Crawler traps for the hostile server (:mod:`tests.support.hostile` mounts them), each endless in its own way:

=============================  ===========================================================================
``/query-explosion``           one page with :data:`QUERY_LINKS` links to ``/query-explosion/item?id=N``
``/relative-loop/...``         each page links to ``a/b/`` below itself, so paths go ``a/b/a/b/a/b/…``
``/session/{sid}/docs/...``    each page links on under a new session id, as a cookieless site does
=============================  ===========================================================================

(The calendar ``/trap/Y/M/D`` and the growing ``/huge-url-trap/`` live in :mod:`tests.support.hostile`.)
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Coroutine
from typing import Any, Final

from aiohttp import web

QUERY_LINKS: Final = 3000
SESSION_START: Final = "/session/s0000000000000000000000000000000/docs/"


def _page(links: list[str]) -> web.Response:
    body = "\n".join(f'<a href="{link}">{link}</a>' for link in links)
    return web.Response(
        text=f"<!DOCTYPE html>\n<html><body>\n{body}\n</body></html>\n", content_type="text/html"
    )


async def _query_explosion(request: web.Request) -> web.Response:
    return _page([f"/query-explosion/item?id={n}" for n in range(QUERY_LINKS)])


async def _query_item(request: web.Request) -> web.Response:
    return _page([])


async def _relative_loop(request: web.Request) -> web.Response:
    return _page(["a/b/"])


async def _session(request: web.Request) -> web.Response:
    # A new id per page, as a server that keeps its session in the URL gives every fresh visitor.
    fresh = "s" + secrets.token_hex(16)
    return _page([f"/session/{fresh}/docs/", f"/session/{fresh}/docs/guide.html"])


Handler = Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]
ROUTES: Final[dict[str, Handler]] = {
    "/query-explosion": _query_explosion,
    "/query-explosion/item": _query_item,
    "/relative-loop/{tail:.*}": _relative_loop,
    "/session/{sid}/docs/{tail:.*}": _session,
}
