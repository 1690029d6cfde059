"""Fixtures of the distributed tests: real ``linkdoctor worker`` processes on the real Redis and PostgreSQL
of ``tests/conftest.py``, and a 3,000-page generated site on nginx.

* ``pg_url`` — a fresh database on the session's PostgreSQL cluster.
* ``start_worker(name, **options)`` — starts a worker against this test's Redis and database, waits until it
  consumes, and stops it at the end; ``plain_worker`` the same without a database.
* ``big_site`` — 3,000 pages served by nginx (module).
* ``logged_site`` — 800 pages served by an nginx that logs every request, and that nginx.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from harness.nginx import NginxPool, NginxServer
from harness.postgres import PostgresCluster
from harness.redis import RedisServer
from harness.sitegen import SiteSpec
from harness.sites import GeneratedSite, serve_generated_site
from harness.workers import Worker

BIG_SITE = SiteSpec(pages=3000, links_per_page=12, broken_share=0.1, redirect_chains=6, seed=11)
LOGGED_SITE = SiteSpec(pages=800, links_per_page=10, broken_share=0.1, redirect_chains=4, seed=23)
StartWorker = Callable[..., Worker]
LoggedSite = tuple[GeneratedSite, NginxServer]


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> str:
    return postgres_cluster.create_database(f"dist_{uuid.uuid4().hex[:12]}")


def chain_ends(site: GeneratedSite, stored: set[str]) -> set[str]:
    """The pages the site's redirect chains end at, but for those ``stored`` (paths) holds under their own
    URL. Such a page is fetched as its chain's last hop and stored under the chain's entry; the crawl fetches
    it on its own as well when it had queued the page before the chain's answer came (it adopts the chain's
    answer only for a page it has not met yet), so in any run, resumed or not, a second request for it is
    not a stored page fetched again."""
    return set(site.truth.redirect_targets.values()) - stored


@contextmanager
def workers(redis_server: RedisServer, db_url: str | None, directory: Path) -> Iterator[StartWorker]:
    """Start workers on ``redis_server`` (and ``db_url``, None for none), each once it consumes; stop them all
    at the end."""
    started: list[Worker] = []

    def start(name: str, **options: Any) -> Worker:
        worker = Worker.start(redis_server.url, db_url, name=name, directory=directory, **options)
        started.append(worker)
        worker.wait_ready(redis_server.client())
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def start_worker(redis_server: RedisServer, pg_url: str, tmp_path: Path) -> Iterator[StartWorker]:
    with workers(redis_server, pg_url, tmp_path / "workers") as start:
        yield start


@pytest.fixture
def plain_worker(redis_server: RedisServer, tmp_path: Path) -> Iterator[StartWorker]:
    """Workers without a database: the default Redis-only deployment."""
    with workers(redis_server, None, tmp_path / "workers") as start:
        yield start


@pytest.fixture(scope="module")
def big_site(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedSite]:
    with NginxPool(nginx_bin, tmp_path_factory.mktemp("big-nginx")) as pool:
        yield serve_generated_site(pool, tmp_path_factory.mktemp("big-site"), BIG_SITE)


@pytest.fixture
def logged_site(nginx_bin: str, tmp_path: Path) -> Iterator[LoggedSite]:
    with NginxPool(nginx_bin, tmp_path / "nginx") as pool:
        site = serve_generated_site(pool, tmp_path / "site", LOGGED_SITE, access_log=True)
        yield site, pool.servers[-1]
