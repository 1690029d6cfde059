"""Name lookups for many hosts run concurrently, are shared and cached, and are bounded by the connect timeout.

The names live in a zone of a DNS server of the test's own on 127.0.0.1 (``tests/support/dns_server.py``),
which answers after 100 ms and which the check asks through ``--dns-server``; a guard fails the test if
anything asks the machine's resolver for a name. The system resolver's path is timed with a stand-in
``getaddrinfo`` that is just as slow."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from tests.support.dns_server import SlowDNS

from linkdoctor.config import CheckConfig
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async
from linkdoctor.errors import ConfigError
from linkdoctor.models import Category, Report

HOSTS = 200
_real_getaddrinfo = socket.getaddrinfo


def _numeric(host: object) -> bool:
    if host is None:
        return True
    try:
        ipaddress.ip_address(host.decode() if isinstance(host, bytes) else str(host))
    except ValueError:
        return False
    return True


@pytest.fixture(autouse=True)
def no_system_lookups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any name sent to the machine's resolver fails the test (addresses pass: they need no lookup)."""

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _numeric(host):
            raise AssertionError(f"the machine's resolver was asked for {host!r}")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def dns() -> Iterator[SlowDNS]:
    with SlowDNS(zone="dns.test", delay=0.1) as server:
        yield server


@pytest.fixture
async def site() -> AsyncIterator[int]:
    """An HTTP server on 127.0.0.1 whose index links to two pages on each of 200 hosts (names in the zone)."""

    async def index(request: web.Request) -> web.Response:
        port = request.url.port
        links = "".join(
            f'<a href="http://h{i}.dns.test:{port}/a">a</a><a href="http://h{i}.dns.test:{port}/b">b</a>'
            for i in range(HOSTS)
        )
        links += f'<a href="http://missing.other.test:{port}/">nowhere</a>'
        return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_route("*", "/{name}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    server = web.TCPSite(runner, "127.0.0.1", 0)
    await server.start()
    yield runner.addresses[0][1]
    await runner.cleanup()


async def check(port: int, **options: Any) -> tuple[Report, float]:
    config = CheckConfig(retries=0, respect_robots=False, **options)
    started = time.monotonic()
    report = await check_async(config, collect_inputs([f"http://127.0.0.1:{port}/"]))
    return report, time.monotonic() - started


async def test_200_hosts_behind_a_slow_dns_server_are_checked_within_3_seconds(
    dns: SlowDNS, site: int
) -> None:
    report, elapsed = await check(site, dns_server=dns.address)

    hosts = {r.url for r in report.results if ".dns.test" in r.url and r.category is Category.OK}
    assert len(hosts) == 2 * HOSTS
    assert elapsed <= 3.0, f"{elapsed:.2f} s"


async def test_each_name_is_asked_once_for_all_its_links(dns: SlowDNS, site: int) -> None:
    await check(site, dns_server=dns.address)

    asked = dns.a_queries()
    assert len([name for name in asked if name.endswith(".dns.test")]) == HOSTS
    assert max(asked.values()) == 1, asked.most_common(3)


async def test_a_name_that_does_not_exist_is_net_dns(dns: SlowDNS, site: int) -> None:
    report, _ = await check(site, dns_server=dns.address)

    (missing,) = [r for r in report.results if "missing.other.test" in r.url]
    assert missing.category is Category.BROKEN
    assert missing.diagnosis is not None and missing.diagnosis.code == "net.dns"


async def test_a_lookup_is_bounded_by_the_connect_timeout(site: int) -> None:
    with SlowDNS(zone="dns.test", delay=30.0) as silent:
        config = CheckConfig(retries=0, dns_server=silent.address, connect_timeout=0.5, timeout=5.0)
        started = time.monotonic()
        report = await check_async(
            config, collect_inputs([], url_lists=[("list", [f"http://h1.dns.test:{site}/a"])])
        )
        elapsed = time.monotonic() - started

    (result,) = report.results
    assert result.category is Category.BROKEN
    assert result.diagnosis is not None and result.diagnosis.code in ("net.dns", "net.timeout")
    assert elapsed < 2.5, f"{elapsed:.2f} s"


async def test_the_system_resolver_looks_names_up_concurrently(
    site: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --dns-server, 200 names that each take the system resolver 100 ms still take under 3 s
    (aiohttp's default, 6 threads on 2 cores, needs 3.4 s)."""
    calls: list[str] = []
    lock = threading.Lock()

    def slow_getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if _numeric(host):
            return _real_getaddrinfo(host, port, *args, **kwargs)
        if not str(host).endswith(".dns.test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        with lock:
            calls.append(str(host))
        time.sleep(0.1)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port or 0))]

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    report, elapsed = await check(site)

    assert len([r for r in report.results if ".dns.test" in r.url and r.category is Category.OK]) == 2 * HOSTS
    assert elapsed <= 3.0, f"{elapsed:.2f} s"
    assert len(calls) == len(set(calls)) == HOSTS  # one lookup per name, shared by its links


@pytest.mark.parametrize("value", ["dns.example:53", "127.0.0.1:0", "127.0.0.1:http", "[::1"])
def test_a_dns_server_must_be_an_address_and_port(value: str) -> None:
    with pytest.raises(ConfigError, match="--dns-server"):
        CheckConfig(dns_server=value)
