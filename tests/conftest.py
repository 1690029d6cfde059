"""Shared fixtures: the real tools (nginx, PostgreSQL, Redis, Chromium), the generated site, the hostile
aiohttp server and raw sockets; and the markers that say which tool a test needs.

The machinery lives in the top-level ``harness`` package (shared with the benchmarks) and in
``tests/support``; this file only turns it into fixtures. A test that needs a missing tool fails, never
skips: run ``./scripts/test`` (it installs them as root), or leave the tool's tests out with a marker.

* ``nginx_bin`` — path of the nginx binary (session).
* ``nginx_factory(server_blocks, name, *, extra_http="", access_log=False)`` — a running
  :class:`~harness.nginx.NginxServer`; all are stopped at the end of the session.
* ``generated_site`` — a 40-page generated site served by nginx, with its ground truth (session).
* ``postgres_cluster`` — one throwaway PostgreSQL cluster (session).
* ``db_url`` — parametrized ``sqlite`` / ``postgresql``: a fresh, empty database per test.
* ``redis_server`` — a fresh redis-server per test.
* ``chromium`` — path of the headless Chromium binary (session).
* ``hostile_server`` — a :class:`~tests.support.hostile.HostileServer` (per test, async).
* ``silent_server`` — a :class:`~harness.ports.Endpoint` that accepts connections and never answers.
* ``closed_port`` — a port on 127.0.0.1 where nothing listens (connections are refused).

Markers (registered in pyproject.toml): a test is marked ``nginx``, ``postgres``, ``redis`` or
``chromium`` when it uses the fixture that starts the tool (see :data:`TOOL_MARKERS`; the ``postgresql``
side of ``db_url`` carries the mark itself), and ``slow`` when it takes several seconds. So
``pytest -m "not postgres and not redis and not chromium"`` runs everything else.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Final

import pytest
from harness import chromium as chromium_harness
from harness import nginx, ports, sites
from harness.postgres import PostgresCluster
from harness.redis import RedisServer
from tests.support import hostile

# A test that uses one of these fixtures (directly or through another fixture) gets the marker.
TOOL_MARKERS: Final = {
    "nginx_bin": "nginx",
    "postgres_cluster": "postgres",
    "redis_server": "redis",
    "chromium": "chromium",
}
# Fixtures that make every test using them take several seconds: worker processes and the big generated
# sites of tests/integration/distributed. Other slow tests carry an explicit ``slow`` mark.
SLOW_FIXTURES: Final = frozenset({"start_worker", "big_site", "logged_site"})


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for fixture, marker in TOOL_MARKERS.items():
            if fixture in used:
                item.add_marker(marker)
        if used & SLOW_FIXTURES:
            item.add_marker("slow")


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    try:
        return nginx.require_nginx()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def nginx_factory(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[nginx.NginxFactory]:
    with nginx.NginxPool(nginx_bin, tmp_path_factory.mktemp("nginx")) as pool:
        yield pool.start


@pytest.fixture(scope="session")
def generated_site(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sites.GeneratedSite]:
    with nginx.NginxPool(nginx_bin, tmp_path_factory.mktemp("site-nginx")) as pool:
        yield sites.serve_generated_site(pool, tmp_path_factory.mktemp("site"))


@pytest.fixture(scope="session")
def postgres_cluster(pytestconfig: pytest.Config) -> PostgresCluster:
    try:
        cluster = PostgresCluster.start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    # Stopped when the session ends, not in the teardown of whichever test used it last: removing a
    # cluster that holds hundreds of test databases takes a while, and must not count against (and time
    # out) that test.
    pytestconfig.add_cleanup(cluster.stop)
    return cluster


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'linkdoctor.sqlite'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    return cluster.create_database(f"test_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    try:
        server = RedisServer.start(tmp_path / "redis")
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    with server:
        yield server


@pytest.fixture(scope="session")
def chromium() -> str:
    try:
        return chromium_harness.require_chromium()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def gzip_bomb_body() -> bytes:
    return hostile.gzip_bomb()


@pytest.fixture
async def hostile_server(gzip_bomb_body: bytes) -> AsyncIterator[hostile.HostileServer]:
    async with hostile.run_hostile_server(gzip_bomb_body) as server:
        yield server


@pytest.fixture
def silent_server() -> Iterator[ports.Endpoint]:
    with ports.silent_listener() as port:
        yield ports.Endpoint(port)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with ports.closed_port() as port:
        yield port
