"""Operations views of ``linkdoctor serve``: Prometheus metrics at ``/metrics``, and the worker-health panel
of the overview when scans run on Celery workers (``--broker``).

``/metrics`` needs an API token (``Authorization: Bearer …``), a session, or public status pages, like the
API's reads. It always reports the sites (by status, broken links per site); with a broker it adds the
workers, the queue, checks per second, scans and errors by diagnosis, read from Redis on each scrape. Without
a broker nothing here imports redis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from linkdoctor.monitor import outbox
from linkdoctor.monitor.model import SiteOverview
from linkdoctor.web.auth import Principal, api_visitor
from linkdoctor.web.context import runtime
from linkdoctor.web.settings import ServeSettings

if TYPE_CHECKING:
    from linkdoctor.distributed.health import ClusterHealth

router = APIRouter(include_in_schema=False)


def cluster_health(settings: ServeSettings) -> ClusterHealth | None:
    """The workers' health when a broker is configured (None without one, or when it cannot be reached)."""
    if not settings.broker_url:
        return None
    from redis import Redis
    from redis.exceptions import RedisError

    from linkdoctor.distributed.health import read_health
    from linkdoctor.distributed.settings import BrokerSettings

    try:
        with Redis.from_url(settings.broker_url, socket_timeout=2, socket_connect_timeout=2) as redis:
            return read_health(redis, BrokerSettings(settings.broker_url))
    except RedisError:
        return None


class _Collector:
    """One scrape's metrics, from values read beforehand."""

    def __init__(
        self,
        sites: list[SiteOverview],
        health: ClusterHealth | None,
        broker: bool,
        undelivered: tuple[int, int] = (0, 0),
    ) -> None:
        self._sites = sites
        self._health = health
        self._broker = broker
        self._undelivered = undelivered

    def collect(self) -> Iterator[Metric]:
        by_status = GaugeMetricFamily(
            "linkdoctor_sites", "Sites by status of their last scan", labels=["status"]
        )
        counts: dict[str, int] = {}
        for overview in self._sites:
            counts[overview.status.value] = counts.get(overview.status.value, 0) + 1
        for status, count in sorted(counts.items()):
            by_status.add_metric([status], count)
        yield by_status
        broken = GaugeMetricFamily(
            "linkdoctor_site_broken_links", "Broken links found by the last scan", labels=["site"]
        )
        for overview in self._sites:
            broken.add_metric([overview.site.name], overview.broken)
        yield broken
        alerts = GaugeMetricFamily(
            "linkdoctor_alerts_undelivered", "Alerts not delivered yet, or given up on", labels=["state"]
        )
        alerts.add_metric(["retrying"], self._undelivered[0])
        alerts.add_metric(["given_up"], self._undelivered[1])
        yield alerts
        if not self._broker:
            return
        yield GaugeMetricFamily(
            "linkdoctor_broker_up", "Whether the broker answered", value=int(bool(self._health))
        )
        health = self._health
        if health is None:
            return
        yield GaugeMetricFamily(
            "linkdoctor_workers", "Workers seen in the last 30 s", value=len(health.workers)
        )
        yield GaugeMetricFamily(
            "linkdoctor_queue_depth", "Batches waiting for a worker", value=health.queue_depth
        )
        yield GaugeMetricFamily(
            "linkdoctor_batches_in_progress",
            "Batches taken by workers, not yet done",
            value=health.in_progress,
        )
        yield GaugeMetricFamily(
            "linkdoctor_checks_per_second",
            "Checks per second over the last minute",
            value=health.checks_per_second,
        )
        yield CounterMetricFamily(
            "linkdoctor_checks", "Fetches made by the workers", value=health.checks_total
        )
        yield CounterMetricFamily("linkdoctor_pages", "Pages parsed by the workers", value=health.pages_total)
        scans = CounterMetricFamily("linkdoctor_scans", "Distributed scans by outcome", labels=["outcome"])
        scans.add_metric(["started"], health.scans_started)
        scans.add_metric(["finished"], health.scans_finished)
        scans.add_metric(["failed"], health.scans_failed)
        yield scans
        yield GaugeMetricFamily(
            "linkdoctor_scans_running", "Distributed scans running", value=health.scans_running
        )
        errors = CounterMetricFamily(
            "linkdoctor_errors", "Broken or unverified results by diagnosis code", labels=["diagnosis"]
        )
        for code, count in health.diagnoses:
            errors.add_metric([code], count)
        yield errors


@router.get("/metrics")
def metrics(request: Request, principal: Annotated[Principal | None, Depends(api_visitor)]) -> Response:
    rt = runtime(request)
    registry = CollectorRegistry(auto_describe=False)
    health = cluster_health(rt.settings)
    undelivered = outbox.undelivered(rt.monitor)
    registry.register(_Collector(rt.monitor.sites(), health, bool(rt.settings.broker_url), undelivered))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
