"""Shared fixtures: real nginx servers, the generated site, the hostile aiohttp server and raw sockets.

The machinery lives in ``tests/support`` and ``benchmarks``; this file only turns it into fixtures.
Tests that need nginx fail (never skip) when it is missing.

* ``nginx_bin`` — path of the nginx binary (session).
* ``nginx_factory(server_blocks, name, *, extra_http="", access_log=False)`` — a running
  :class:`~benchmarks.nginxctl.NginxServer`; all are stopped at the end of the session.
* ``generated_site`` — a 40-page generated site served by nginx, with its ground truth (session).
* ``hostile_server`` — a :class:`~tests.support.hostile.HostileServer` (per test, async).
* ``silent_server`` — a :class:`~tests.support.servers.Endpoint` that accepts connections and never answers.
* ``closed_port`` — a port on 127.0.0.1 where nothing listens (connections are refused).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parent.parent
if str(_REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(_REPO_ROOT))  # makes `benchmarks` and `tests.support` importable

from tests.support import hostile, servers  # noqa: E402


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    try:
        return servers.require_nginx()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def nginx_factory(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.NginxFactory]:
    with servers.NginxPool(nginx_bin, tmp_path_factory.mktemp("nginx")) as pool:
        yield pool.start


@pytest.fixture(scope="session")
def generated_site(
    nginx_bin: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.GeneratedSite]:
    with servers.NginxPool(nginx_bin, tmp_path_factory.mktemp("site-nginx")) as pool:
        yield servers.serve_generated_site(pool, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def gzip_bomb_body() -> bytes:
    return hostile.gzip_bomb()


@pytest.fixture
async def hostile_server(gzip_bomb_body: bytes) -> AsyncIterator[hostile.HostileServer]:
    async with hostile.run_hostile_server(gzip_bomb_body) as server:
        yield server


@pytest.fixture
def silent_server() -> Iterator[servers.Endpoint]:
    with servers.silent_listener() as port:
        yield servers.Endpoint(port)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with servers.closed_port() as port:
        yield port
