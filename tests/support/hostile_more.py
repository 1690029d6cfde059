"""More of the hostile server (:mod:`tests.support.hostile` mounts :data:`ROUTES`; ``/robots.txt`` only when
asked for, as it changes every other route's fate):

=============================  =======================================================================
``/redirect-to-file``          302 to ``file:///etc/passwd``
``/retry-after-years``         429 with ``Retry-After`` of about 30 years in seconds, every time
``/retry-after-far-date``      429 with ``Retry-After: Fri, 31 Dec 9999 23:59:59 GMT``, every time
``/many-links``                one page of :data:`MANY_LINKS` distinct links (``/many/item?n=N``)
``/sitemap-index.xml``         a sitemap index of :data:`SITEMAPS` sitemaps of :data:`SITEMAP_URLS` URLs
                               each (``/sitemaps/K.xml``): a million URLs
``/sitemap-bomb.xml.gz``       a gzip sitemap that inflates to :data:`SITEMAP_BOMB_BYTES` of ``<url>``s
``/entity-bomb.xml``           a sitemap with an XML entity bomb ("billion laughs")
``/robots.txt``                :data:`ROBOTS_BYTES` of rules with ``Crawl-delay: 86400``, naming the
                               million-URL sitemap index
=============================  =======================================================================
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Coroutine
from typing import Any, Final

from aiohttp import web

MANY_LINKS: Final = 300_000
SITEMAPS: Final = 1000
SITEMAP_URLS: Final = 1000
SITEMAP_BOMB_BYTES: Final = 2 * 1024**3
ROBOTS_BYTES: Final = 5 * 1024 * 1024
CRAWL_DELAY: Final = 86400
RETRY_AFTER_YEARS: Final = str(30 * 365 * 86400)
FAR_DATE: Final = "Fri, 31 Dec 9999 23:59:59 GMT"
_MIB: Final = 1024 * 1024
BODIES: Final = web.AppKey("hostile_more_bodies", dict)


def gzip_repeated(head: bytes, chunk: bytes, count: int, tail: bytes) -> bytes:
    """A gzip stream of ``head + chunk * count + tail``, built without compressing every copy: after a full
    flush the compressor starts afresh, so each copy of ``chunk`` compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    start = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.compress(tail) + compressor.flush(zlib.Z_FINISH)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(chunk) * count + len(tail)
    return start + segment * count + end[:-8] + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _body(request: web.Request, name: str, make: Callable[[], bytes]) -> bytes:
    """Big bodies are built once per server, on first use."""
    bodies: dict[str, bytes] = request.app[BODIES]
    if name not in bodies:
        bodies[name] = make()
    return bodies[name]


def _redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


async def _redirect_to_file(request: web.Request) -> web.Response:
    return _redirect("file:///etc/passwd")


async def _retry_after_years(request: web.Request) -> web.Response:
    return web.Response(status=429, text="come back later", headers={"Retry-After": RETRY_AFTER_YEARS})


async def _retry_after_far_date(request: web.Request) -> web.Response:
    return web.Response(status=429, text="come back later", headers={"Retry-After": FAR_DATE})


async def _many_links(request: web.Request) -> web.Response:
    def make() -> bytes:
        rows = (f'<a href="/many/item?n={n}">{n}</a>\n' for n in range(MANY_LINKS))
        return ("<!DOCTYPE html>\n<html><body>\n" + "".join(rows) + "</body></html>\n").encode()

    return web.Response(body=_body(request, "many", make), content_type="text/html")


async def _tiny(request: web.Request) -> web.Response:
    return web.Response(
        text="<!DOCTYPE html>\n<html><body><p>item</p></body></html>\n", content_type="text/html"
    )


_XML = "application/xml"


async def _sitemap_index(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"

    def make() -> bytes:
        rows = "".join(f"<sitemap><loc>{base}/sitemaps/{k}.xml</loc></sitemap>\n" for k in range(SITEMAPS))
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            f"{rows}</sitemapindex>\n"
        ).encode()

    return web.Response(body=_body(request, "index", make), content_type=_XML)


async def _sitemap(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"
    k = request.match_info["k"]
    rows = "".join(f"<url><loc>{base}/sm/{k}/{i}</loc></url>\n" for i in range(SITEMAP_URLS))
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{rows}</urlset>\n'
    )
    return web.Response(text=text, content_type=_XML)


async def _sitemap_bomb(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"

    def make() -> bytes:
        entry = f"<url><loc>{base}/bomb/x</loc></url>\n".encode()
        chunk = entry * (_MIB // len(entry))
        head = b'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        return gzip_repeated(head, chunk, SITEMAP_BOMB_BYTES // len(chunk), b"</urlset>\n")

    return web.Response(body=_body(request, "bomb", make), content_type="application/gzip")


ENTITY_BOMB: Final = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">\n' for n in range(1, 10))
    + ']>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>&lol9;</loc></url></urlset>\n'
)


async def _entity_bomb(request: web.Request) -> web.Response:
    return web.Response(text=ENTITY_BOMB, content_type=_XML)


async def robots_txt(request: web.Request) -> web.Response:
    base = f"{request.scheme}://{request.host}"

    def make() -> bytes:
        line = b"Disallow: /private/%08d/\n"
        rules = b"".join(line % n for n in range(ROBOTS_BYTES // len(line % 0)))
        head = f"User-agent: *\nCrawl-delay: {CRAWL_DELAY}\nSitemap: {base}/sitemap-index.xml\n".encode()
        return head + rules

    return web.Response(body=_body(request, "robots", make), content_type="text/plain")


ROUTES: Final[dict[str, Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]]]] = {
    "/redirect-to-file": _redirect_to_file,
    "/retry-after-years": _retry_after_years,
    "/retry-after-far-date": _retry_after_far_date,
    "/many-links": _many_links,
    "/many/item": _tiny,
    "/sitemap-index.xml": _sitemap_index,
    "/sitemaps/{k:\\d+}.xml": _sitemap,
    "/sm/{k:\\d+}/{i:\\d+}": _tiny,
    "/sitemap-bomb.xml.gz": _sitemap_bomb,
    "/bomb/x": _tiny,
    "/entity-bomb.xml": _entity_bomb,
}
"""Every route but ``/robots.txt`` (see :func:`robots_txt`)."""
