"""Secret headers cross the broker as the names of environment variables: a ``check --broker`` whose
``Authorization`` header and host-scoped ``headers_env`` header a server requires gets every page, while
everything that goes through Redis (watched with ``MONITOR``, Celery's base64 bodies decoded) holds only
the variables' names."""

from __future__ import annotations

import base64
import binascii
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path

import pytest
from aiohttp import web
from harness.redis import RedisServer
from tests.integration.distributed.conftest import StartWorker
from tests.support.aiohttp_site import serving

from linkdoctor.config import CheckConfig
from linkdoctor.config_file import apply_sections, load
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.fetching import FetchAborted
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.models import Category

pytestmark = pytest.mark.timeout(120)
AUTH = "Bearer s3cret-t0ken-4f1c"
KEY = "k3y-v4lue-90ab"
SECRETS = {"LD_TEST_AUTH": AUTH, "LD_TEST_KEY": KEY}
PAGES = 12


@asynccontextmanager
async def guarded_site(refused: list[str]) -> AsyncIterator[str]:
    """A site whose every page needs both headers (401 without them, the path noted in ``refused``)."""

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != AUTH or request.headers.get("X-Key") != KEY:
            refused.append(request.path)
            return web.Response(status=401, text="who are you?")
        links = "".join(f'<a href="/p{i}.html">{i}</a>' for i in range(PAGES)) if request.path == "/" else ""
        return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")

    async with serving(handle) as base:
        yield base


@contextmanager
def redis_traffic(redis_server: RedisServer) -> Iterator[list[str]]:
    """Every command Redis runs meanwhile, as text, with each base64 run in it also decoded."""
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        with redis_server.client().monitor() as monitor:  # type: ignore[no-untyped-call]
            for command in monitor.listen():
                text = str(command.get("command", ""))
                seen.append(text)
                for run in re.findall(r"[A-Za-z0-9+/=]{24,}", text):
                    with suppress(binascii.Error, ValueError):
                        seen.append(base64.b64decode(run + "=" * (-len(run) % 4)).decode("utf-8", "replace"))
                if stop.is_set():
                    return

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        redis_server.client().ping()  # one more command wakes the watcher to see the stop
        thread.join(timeout=10)


def secret_config(tmp_path: Path) -> CheckConfig:
    """As the command line builds it: -H "Authorization: $LD_TEST_AUTH", and a [[hosts]] table's
    headers_env."""
    toml = tmp_path / "linkdoctor.toml"
    toml.write_text('[[hosts]]\nmatch = ["127.0.0.1"]\nheaders_env = {X-Key = "LD_TEST_KEY"}\n')
    return apply_sections(
        CheckConfig(retries=0, respect_robots=False, headers=(("Authorization", AUTH),)),
        load(toml),
        environ=SECRETS,
    )


async def test_secret_headers_reach_the_site_and_never_the_broker(
    redis_server: RedisServer, plain_worker: StartWorker, tmp_path: Path
) -> None:
    plain_worker("h1@test", env={**os.environ, **SECRETS}, allow_env=tuple(SECRETS))
    settings = BrokerSettings(redis_server.url)
    refused: list[str] = []
    async with guarded_site(refused) as url:
        config = secret_config(tmp_path)
        with redis_traffic(redis_server) as traffic:
            report = await check_distributed(config, collect_inputs([url]), settings, env=SECRETS)

    assert refused == []
    assert sorted(r.url for r in report.results if r.category is Category.OK) == sorted(
        [url, *(f"{url}p{i}.html" for i in range(PAGES))]
    )
    sent = "\n".join(traffic)
    assert "LD_TEST_AUTH" in sent and "LD_TEST_KEY" in sent  # the batches were seen, and decoded
    assert "s3cret-t0ken" not in sent and KEY not in sent


async def test_a_worker_reads_no_variable_it_was_not_allowed(
    redis_server: RedisServer, plain_worker: StartWorker, tmp_path: Path
) -> None:
    """A batch names the variables it wants, and whoever can write to the broker writes batches: a worker
    holding both secrets but allowing only ``LD_TEST_KEY`` sends no request for a batch that also names
    ``LD_TEST_AUTH``: the run stops with one line saying which variable to allow."""
    plain_worker("h2@test", env={**os.environ, **SECRETS}, allow_env=("LD_TEST_KEY",))
    seen: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        return web.Response(text="<html></html>", content_type="text/html")

    async with serving(handle) as url:
        with pytest.raises(FetchAborted) as stopped:
            await check_distributed(
                secret_config(tmp_path), collect_inputs([url]), BrokerSettings(redis_server.url), env=SECRETS
            )
    assert seen == []  # not a request, so no header either
    assert str(stopped.value) == (
        "worker h2@test: the Authorization header: environment variable LD_TEST_AUTH is not set on this worker, "
        "or not allowed there (start the worker with --allow-env LD_TEST_AUTH)"
    )
