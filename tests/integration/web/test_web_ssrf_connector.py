"""The SSRF guard under real connections: an aiohttp session whose sockets it vets cannot reach loopback
servers unless they are allowlisted, and this holds after DNS resolution and across redirects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp import web

from linkdoctor.engine.http.ssrf import SSRFGuard
from linkdoctor.errors import ConfigError

LOOPBACK_ONLY_FIRST = [ip_network("127.0.0.1/32")]


async def _serve(host: str, app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def second_server() -> AsyncIterator[str]:
    """A server on 127.0.0.2: loopback, but outside the 127.0.0.1/32 allowlist."""
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="second")

    app.router.add_get("/", hello)
    async for origin in _serve("127.0.0.2", app):
        yield origin


@pytest.fixture
async def first_server(second_server: str) -> AsyncIterator[str]:
    """A server on 127.0.0.1 whose /hop redirects to the second server."""
    app = web.Application()

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="first")

    async def hop(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{second_server}/")

    app.router.add_get("/", hello)
    app.router.add_get("/hop", hop)
    async for origin in _serve("127.0.0.1", app):
        yield origin


async def fetch(guard: SSRFGuard, url: str) -> str:
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(socket_factory=guard.socket_factory)) as session,
        session.get(url) as response,
    ):
        return await response.text()


async def test_loopback_server_is_unreachable_without_an_allowlist(first_server: str) -> None:
    with pytest.raises(aiohttp.ClientConnectorError, match="SSRF guard"):
        await fetch(SSRFGuard(), f"{first_server}/")


async def test_loopback_server_is_reachable_when_allowlisted(first_server: str) -> None:
    assert await fetch(SSRFGuard(allow=LOOPBACK_ONLY_FIRST), f"{first_server}/") == "first"


async def test_redirect_to_a_non_allowlisted_loopback_address_is_refused(first_server: str) -> None:
    with pytest.raises(aiohttp.ClientConnectorError, match=r"127\.0\.0\.2 is a loopback address"):
        await fetch(SSRFGuard(allow=LOOPBACK_ONLY_FIRST), f"{first_server}/hop")


async def test_name_that_resolves_to_loopback_is_refused_after_dns(first_server: str) -> None:
    port = first_server.rsplit(":", 1)[1]
    with pytest.raises(aiohttp.ClientConnectorError, match="SSRF guard"):
        await fetch(SSRFGuard(), f"http://localhost:{port}/")


def test_url_check_resolves_localhost_and_refuses_it() -> None:
    with pytest.raises(ConfigError, match=r"localhost \((127\.0\.0\.1|::1)\) is a loopback address"):
        SSRFGuard().check_url("http://localhost:8484/")


@pytest.mark.parametrize(
    ("literal", "embedded"),
    [("[2002:7f00:1::1]", r"6to4 of 127\.0\.0\.1"), ("[64:ff9b::7f00:1]", r"NAT64 of 127\.0\.0\.1")],
)
async def test_ipv6_address_embedding_an_allowlisted_loopback_address_is_refused_by_the_connector(
    first_server: str, literal: str, embedded: str
) -> None:
    port = first_server.rsplit(":", 1)[1]
    with pytest.raises(aiohttp.ClientConnectorError, match=f"SSRF guard: .*{embedded}"):
        await fetch(SSRFGuard(allow=LOOPBACK_ONLY_FIRST), f"http://{literal}:{port}/")
