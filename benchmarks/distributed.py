"""Distributed crawl benchmark: the same generated site on nginx, crawled in-process, then by one and by two
``linkdoctor worker`` processes through a local Redis, with the workers storing every page in a SQLite
database as in production (PostgreSQL there). Each worker runs ``--pool``/``--concurrency`` (default: the
threads pool with 4 batches at once on one event loop; ``--pool solo`` runs one batch at a time).

    python -m benchmarks.distributed --pages 2000 --runs 3
    python -m benchmarks.distributed --pages 5000 --backend-delay 0.1 --pool solo --concurrency 1 --runs 3  # 1, 2, 4 workers
    python -m benchmarks.distributed --memory 10000 50000 200000  # the coordinator's peak RSS

The check runs with the engine's default settings (retries on: the site has 500-answering pages, each tried
again with backoff) unless ``--retries`` says otherwise. It prints a Markdown table of medians over
``--runs`` runs, in-process and distributed runs alternating: wall time, pages and checks per second, the
ratio of each distributed run's wall time to the in-process one, the speed-up of two workers over one, each
worker's peak RSS, and Redis's peak memory; plus the cost of the two dedupe stores (Redis set vs database
unique constraint) per 100,000 URL hashes. The figures go into docs/scaling.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import redis as redis_sync

if __package__ in (None, ""):  # run as a script: make ``harness`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.nginx import start_nginx
from harness.ports import free_port
from harness.redis import RedisServer
from harness.sitegen import SiteSpec, generate_site
from harness.sites import site_server_block
from harness.workers import Worker

from benchmarks.run import measure
from linkdoctor.config import CheckConfig
from linkdoctor.distributed.run import check_distributed
from linkdoctor.distributed.settings import BrokerSettings
from linkdoctor.engine.inputs import collect_inputs
from linkdoctor.engine.runner import check_async, run_sync


def _peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a live process and its children (VmHWM), in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def _run_distributed(url: str, settings: BrokerSettings, config: CheckConfig) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = run_sync(check_distributed(config, collect_inputs([url]), settings))
    return time.perf_counter() - started, report.summary.pages_crawled, len(report.results)


def _run_local(url: str, config: CheckConfig) -> float:
    started = time.perf_counter()
    run_sync(check_async(config, collect_inputs([url])))
    return time.perf_counter() - started


def _dedupe_costs(broker: str, directory: Path, count: int = 100_000) -> tuple[float, float]:
    """Seconds to record ``count`` URL hashes in a Redis set (pipelined) and in SQLite with a unique key."""
    from linkdoctor.distributed.store import FetchStore

    hashes = [
        hashlib.blake2b(f"https://site.example/{i}".encode(), digest_size=16).hexdigest()
        for i in range(count)
    ]
    client = redis_sync.Redis.from_url(broker)
    started = time.perf_counter()
    for start in range(0, count, 1000):
        pipe = client.pipeline(transaction=False)
        for key in hashes[start : start + 1000]:
            pipe.sadd("bench:seen", key)
        pipe.execute()
    redis_s = time.perf_counter() - started
    store = FetchStore.open(f"sqlite:///{directory / 'dedupe.sqlite'}")
    started = time.perf_counter()
    for start in range(0, count, 1000):
        store.put("bench", {key: {} for key in hashes[start : start + 1000]})
    db_s = time.perf_counter() - started
    store.close()
    return redis_s, db_s


_SLOW_SERVER = """
import asyncio, sys
from aiohttp import web
pages, fanout, delay, port = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
async def page(request):
    await asyncio.sleep(delay)
    n = int(request.match_info["n"])
    kids = range(n * fanout + 1, min(pages, n * fanout + fanout + 1))
    links = "".join(f'<a href="/p/{k}">{k}</a>' for k in kids)
    return web.Response(text=f"<html><body>{links}</body></html>", content_type="text/html")
async def other(request):
    await asyncio.sleep(delay)
    return web.Response(status=404)
app = web.Application()
app.router.add_get("/p/{n}", page)
app.router.add_route("*", "/{tail:.*}", other)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
"""


def _start_worker(broker: str, db: str | None, name: str, work: Path, pool: str, concurrency: int) -> Worker:
    worker = Worker.start(broker, db, name=name, directory=work, pool=pool, concurrency=concurrency)
    worker.wait_ready(redis_sync.Redis.from_url(broker))
    return worker


def _keep(workers: list[Worker], count: int, start: Callable[[int], Worker]) -> None:
    """Exactly ``count`` live workers: start the missing ones, stop the extra ones."""
    while len(workers) < count:
        workers.append(start(len(workers) + 1))
    while len(workers) > count:
        workers.pop().stop()


def scaling(pages: int, delay: float, counts: Sequence[int], work: Path, args: argparse.Namespace) -> int:
    """Pages per second with 1, 2, 4… workers against a backend answering every request after ``delay``
    seconds, in a process of its own (CPU is not the limit: the workers wait on the backend). Host caps are
    lifted so that the workers, not politeness, are what is measured. Each run goes through every count."""
    import subprocess

    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", _SLOW_SERVER, str(pages), "10", str(delay), str(port)])
    redis = RedisServer.start(work / "redis")
    settings = BrokerSettings(redis.url)
    config = CheckConfig(max_per_host=1024, max_concurrency=1024, respect_robots=False)
    url = f"http://127.0.0.1:{port}/p/0"
    workers: list[Worker] = []
    rates: dict[int, list[float]] = {count: [] for count in counts}
    walls: dict[int, list[float]] = {count: [] for count in counts}

    def start(n: int) -> Worker:
        return _start_worker(redis.url, None, f"scale{n}@local", work, args.pool, args.concurrency)

    try:
        time.sleep(1.0)
        for _ in range(args.runs):
            for count in counts:
                _keep(workers, count, start)
                seconds, crawled, _ = _run_distributed(url, settings, config)
                walls[count].append(seconds)
                rates[count].append(crawled / seconds)
            _keep(workers, 0, start)
    finally:
        _keep(workers, 0, start)
        redis.stop()
        server.terminate()
        server.wait(timeout=10)
    print(
        f"backend: {pages} pages, every answer after {delay * 1000:.0f} ms; {os.cpu_count()} CPUs; "
        f"workers --pool {args.pool} --concurrency {args.concurrency}; median of {args.runs} runs"
    )
    print()
    print("| workers | wall s | pages/s | × one worker | runs (pages/s) |")
    print("|---:|---:|---:|---:|---|")
    base = statistics.median(rates[counts[0]])
    for count in counts:
        rate = statistics.median(rates[count])
        every = ", ".join(f"{r:.0f}" for r in rates[count])
        print(
            f"| {count} | {statistics.median(walls[count]):.2f} | {rate:,.0f} | {rate / base:.2f} | {every} |"
        )
    return 0


def _check_process(
    url: str, broker: str | None, work: Path, formats: Sequence[str] = ("json",)
) -> tuple[float, float, float, int]:
    """``linkdoctor check`` of ``url`` as a process of its own (with ``--broker``, the coordinator): its wall
    seconds, its CPU seconds (with its parser process's), its peak RSS in MB and its exit code. Measured as the peers are (:func:`benchmarks.run.measure`,
    under GNU time): a peak read from ``os.wait4`` would count this benchmark's own memory, which the check
    is forked from (this process crawls the first site itself, and generates each)."""
    command = [sys.executable, "-m", "linkdoctor", "check", url, "--no-progress"]
    command += [f"--format={name}:{work / f'report.{name}'}" for name in formats]
    command += ["--broker", broker] if broker else []
    wall, cpu, peak, code, _expired = measure(command, work / "check.log", 3600, work)
    return wall, cpu, peak, code


def _state_bytes(url: str, client: redis_sync.Redis) -> tuple[int, int, int]:
    """The crawl of ``url`` in this process with its state in Redis (as a coordinator keeps it): the links and
    resources it holds at the end, and the bytes of its keys (``MEMORY USAGE``)."""
    from linkdoctor.distributed.crawlstate import RedisState

    prefix = "bench:state"
    run_sync(check_async(CheckConfig(), collect_inputs([url]), state=RedisState(client, prefix)))
    used = sum(
        int(client.memory_usage(key) or 0) for key in client.scan_iter(match=f"{prefix}:*", count=1000)
    )
    return int(client.hlen(f"{prefix}:l")), int(client.hlen(f"{prefix}:r")), used


def memory(sizes: Sequence[int], work: Path, args: argparse.Namespace) -> int:
    """Peak RSS of the coordinating ``check --broker`` (2 workers, no database) and of the same check in one
    process, on generated sites of each size; Redis's peak memory, and the crawl state's share of it."""
    rows = []
    for pages in sizes:
        site = work / f"site-{pages}"
        generate_site(SiteSpec(pages=pages, links_per_page=args.links_per_page, seed=5), site)
        nginx = start_nginx(site_server_block(site.resolve(), free_port()), work / f"nginx-{pages}")
        redis = RedisServer.start(work / f"redis-{pages}")
        workers: list[Worker] = []
        client = redis_sync.Redis.from_url(redis.url, encoding_errors="surrogatepass")
        state: tuple[int, int, int] | None = None

        def start(n: int) -> Worker:
            return _start_worker(redis.url, None, f"mem{n}@local", work, args.pool, args.concurrency)  # noqa: B023

        try:
            local = _check_process(nginx.url("/"), None, work, args.formats)
            _keep(workers, 2, start)
            client.config_resetstat()
            wall, cpu, rss, code = _check_process(nginx.url("/"), redis.url, work, args.formats)
            worker_rss = max(_peak_rss_mb(w.process.pid) for w in workers)
            redis_peak = client.info("memory")["used_memory_peak"] / 1024 / 1024
            state = _state_bytes(nginx.url("/"), client) if pages == sizes[0] else None
        finally:
            _keep(workers, 0, start)
            redis.stop()
            nginx.stop()
        rows.append(
            f"| {pages:,} | {rss:.0f} MB | {local[2]:.0f} MB | {worker_rss:.0f} MB | {redis_peak:.0f} MB "
            f"| {wall:.0f} s / {local[0]:.0f} s (exit {code} / {local[3]}) "
            f"| {cpu / pages * 1000:.2f} ms / {local[1] / pages * 1000:.2f} ms |"
        )
        if state is not None:
            links, resources, used = state
            print(
                f"crawl state in Redis, {pages:,} pages: {used / 1024 / 1024:.1f} MB for {links:,} links and "
                f"{resources:,} resources, {used / (links + resources):.0f} bytes per URL"
            )
    print(f"generated site, {args.links_per_page} links per page; 2 workers --pool {args.pool}; no database")
    print(f"reports written: {', '.join(args.formats)}")
    print()
    print(
        "| pages | coordinator | in-process check | each worker | Redis peak | wall (coordinator / in-process) "
        "| CPU per page (coordinator / in-process) |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--retries", type=int, default=None, help="retries per URL (default: the engine's)")
    parser.add_argument("--links-per-page", type=int, default=25)
    parser.add_argument("--max-concurrency", type=int, default=None, help="(default: the engine's)")
    parser.add_argument("--runs", type=int, default=3, help="runs per mode, alternating; medians reported")
    parser.add_argument("--work", type=Path, default=None, help="work directory (default: a temp dir)")
    parser.add_argument("--pool", choices=("threads", "solo", "prefork"), default="threads")
    parser.add_argument("--concurrency", type=int, default=4, help="batches at once per worker")
    parser.add_argument(
        "--backend-delay",
        type=float,
        default=None,
        metavar="S",
        help="measure scaling instead: 1, 2 and 4 workers against a backend answering after S seconds",
    )
    parser.add_argument(
        "--memory",
        type=int,
        nargs="+",
        default=None,
        metavar="PAGES",
        help="measure memory instead: the coordinator's peak RSS on sites of these sizes, against one process",
    )
    parser.add_argument(
        "--formats",
        nargs="+",
        default=["json"],
        metavar="FORMAT",
        help="with --memory: the report formats each check writes, each to a file (default: json)",
    )
    args = parser.parse_args(argv)
    if args.memory is not None:
        work = args.work or Path(tempfile.mkdtemp(prefix="ld-dist-mem-"))
        return memory(args.memory, work, args)
    if args.runs < 1 or not 0 < args.pages <= 100_000:
        parser.error("--runs must be at least 1 and --pages between 1 and 100000")
    if shutil.which("redis-server") is None:
        print("redis-server is required (apt-get install redis-server)", file=sys.stderr)
        return 1
    work = args.work or Path(tempfile.mkdtemp(prefix="ld-dist-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.backend_delay is not None:
        return scaling(args.pages, args.backend_delay, (1, 2, 4), work, args)
    spec = SiteSpec(pages=args.pages, links_per_page=args.links_per_page, seed=5)
    root = work / "site"
    generate_site(spec, root)
    nginx = start_nginx(site_server_block(root.resolve(), free_port()), work / "nginx")
    redis = RedisServer.start(work / "redis")
    broker = redis.url
    db = f"sqlite:///{work / 'linkdoctor.sqlite'}"
    settings = BrokerSettings(broker, db_url=db)
    config = CheckConfig()
    if args.retries is not None:
        config = replace(config, retries=args.retries)
    if args.max_concurrency is not None:
        config = replace(config, max_concurrency=args.max_concurrency)
    url = nginx.url("/")
    workers: list[Worker] = []
    modes = ("in-process", "1 worker", "2 workers")
    walls: dict[str, list[float]] = {mode: [] for mode in modes}
    checks: dict[str, list[int]] = {mode: [] for mode in modes}
    sizes: dict[str, tuple[int, int]] = {}
    client = redis_sync.Redis.from_url(broker)

    def start(n: int) -> Worker:
        return _start_worker(broker, db, f"bench{n}@local", work, args.pool, args.concurrency)

    try:
        local = run_sync(check_async(config, collect_inputs([url])))  # warm-up, and the reference sizes
        sizes["in-process"] = (local.summary.pages_crawled, len(local.results))
        for _ in range(args.runs):  # the modes alternate, so a busy spell of the host hits all of them
            walls["in-process"].append(_run_local(url, config))
            for count, mode in ((1, "1 worker"), (2, "2 workers")):
                _keep(workers, count, start)
                client.delete(settings.keys.counters)
                seconds, pages, results = _run_distributed(url, settings, config)
                walls[mode].append(seconds)
                checks[mode].append(int(client.hget(settings.keys.counters, "checks") or 0))
                sizes[mode] = (pages, results)
            rss = tuple(_peak_rss_mb(w.process.pid) for w in workers)
            _keep(workers, 1, start)
        redis_peak = client.info("memory")["used_memory_peak"] / 1024 / 1024
        redis_s, db_s = _dedupe_costs(broker, work)
    finally:
        _keep(workers, 0, start)
        redis.stop()
        nginx.stop()
    print(
        f"site: {args.pages} pages, {args.links_per_page} links per page; {os.cpu_count()} CPUs; "
        f"retries {config.retries}; max concurrency {config.max_concurrency}; workers --pool {args.pool} --concurrency {args.concurrency}; "
        f"median of {args.runs} alternating runs"
    )
    print()
    print("| mode | wall s | x in-process | pages/s | fetches/s | results | runs (wall s) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    base = statistics.median(walls["in-process"])
    for mode in modes:
        wall = statistics.median(walls[mode])
        fetches = f"{statistics.median(checks[mode]) / wall:,.0f}" if checks[mode] else "—"
        pages, results = sizes[mode]
        every = ", ".join(f"{w:.2f}" for w in walls[mode])
        print(
            f"| {mode} | {wall:.2f} | {wall / base:.2f} | {pages / wall:,.0f} | {fetches} | {results:,} "
            f"| {every} |"
        )
    one, two = statistics.median(walls["1 worker"]), statistics.median(walls["2 workers"])
    print()
    print(f"two workers vs one: {one / two:.2f}x; worker peak RSS MB {', '.join(f'{r:.0f}' for r in rss)}")
    print(f"Redis peak memory {redis_peak:.1f} MB")
    print(f"dedupe of 100,000 URL hashes: Redis set {redis_s:.2f} s, SQLite unique key {db_s:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
