"""What an operator watches: ``/metrics`` in Prometheus's text format, and ``/readyz``.

``/metrics``: requests and their latency by route (labelled with the route's template,
``/api/v1/orders/{order_id}``, so ids never multiply the series; web/observe.py counts them),
refusals by their API ``code``, and the PostgreSQL pool of this process. It answers the machine
itself (a Prometheus or an agent on the same host), or a caller presenting
``MALL_METRICS_TOKEN`` as a bearer token; anyone else is told there is nothing there.
With several workers, ``mall serve`` gives them a shared folder for their figures.

``/readyz``: 200 when the database answers, 503 when it does not, so a proxy or an orchestrator
sends no customer to a server that cannot serve them. ``/healthz`` stays the cheap liveness check.
"""

from __future__ import annotations

import hmac
import math
import os
from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from litestar import MediaType, Request, Response, get
from litestar.exceptions import NotFoundException
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from mall.db import answers
from web.deps import AppSettings, Db

LOCAL = {"127.0.0.1", "::1"}

REFUSALS = Counter(
    "mall_refusals_total", "Requests refused with a problem, by its code", ["code", "status"]
)
POOL = Gauge("mall_db_pool_connections", "PostgreSQL connections of this process", ["state"])

LABELS = ["app_name", "method", "path", "status_code"]
_REQUESTS = ("mall_requests", "Requests answered, by route and status")
_LATENCY = ("mall_request_duration_seconds", "Time to answer, by route and status")
#: Not counted: the scrapes themselves, health checks, static files, paths that match no route.
UNCOUNTED = ("/metrics", "/healthz", "/readyz", "/static/")
Key = tuple[str, str, int]  # method, route template, status


class Routes:
    """Requests and their latency by route, for one process: counted in plain numbers, as
    Prometheus's own series cost three locks and seven calls per request, and turned into
    Prometheus's counter and histogram when scraped (a collector of ``REGISTRY``). Only the event
    loop's thread records and scrapes, so nothing needs a lock."""

    BOUNDS = Histogram.DEFAULT_BUCKETS  # seconds, the last one +Inf
    LE = ["+Inf" if b == math.inf else repr(float(b)) for b in BOUNDS]  # as Prometheus writes them

    def __init__(self) -> None:
        self.series: dict[Key, list[Any]] = {}  # [count, sum of seconds, count per bucket]

    def record(self, key: Key, seconds: float) -> None:
        found = self.series.get(key)
        if found is None:
            found = self.series[key] = [0, 0.0, [0] * len(self.BOUNDS)]
        found[0] += 1
        found[1] += seconds
        found[2][bisect_left(self.BOUNDS, seconds)] += 1  # the first bucket it fits (le)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(*_REQUESTS, labels=LABELS)
        latency = HistogramMetricFamily(*_LATENCY, labels=LABELS)
        for (method, template, status), (count, total, buckets) in list(self.series.items()):
            labels = ["mall", method, template, str(status)]
            requests.add_metric(labels, count)
            upto = list(zip(self.LE, accumulate(buckets), strict=True))
            latency.add_metric(labels, upto, total)
        yield requests
        yield latency


class SharedRoutes:
    """The same figures in Prometheus's own series, which several workers (``mall serve
    --workers N``) write to the shared folder that any one of them reads when scraped."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.requests = Counter(*_REQUESTS, LABELS, registry=registry)
        self.latency = Histogram(*_LATENCY, LABELS, registry=registry)
        self.series: dict[Key, tuple[Any, Any]] = {}

    def record(self, key: Key, seconds: float) -> None:
        found = self.series.get(key)
        if found is None:
            labels = ("mall", key[0], key[1], str(key[2]))
            found = self.series[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        found[0].inc()
        found[1].observe(seconds)


ROUTES: Routes | SharedRoutes
if "PROMETHEUS_MULTIPROC_DIR" in os.environ:  # set by ``mall serve`` for several workers
    ROUTES = SharedRoutes()
else:
    ROUTES = Routes()
    REGISTRY.register(ROUTES)


def record(method: str, template: str, status: int, seconds: float) -> None:
    """Count one answered request (web/observe.py calls it)."""
    if template and not template.startswith(UNCOUNTED):
        ROUTES.record((method, template, status), seconds)


def count_refusal(code: str, status: int) -> None:
    REFUSALS.labels(code=code, status=str(status)).inc()


@get("/metrics", include_in_schema=False, cache=False)
async def metrics(
    request: Request[Any, Any, Any], db: Db, settings: AppSettings
) -> Response[bytes]:
    host = request.client.host if request.client else ""
    token = settings.metrics_token
    offered = request.headers.get("authorization", "")
    allowed = host in LOCAL or (
        token is not None and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode())
    )
    if not allowed:
        raise NotFoundException()
    stats = db.pool_stats()
    if stats is not None:
        POOL.labels(state="open").set(stats[0])
        POOL.labels(state="idle").set(stats[1])
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:  # several workers: read every worker's figures
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped in prometheus-client
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


@get("/readyz", media_type=MediaType.JSON, include_in_schema=False, cache=False)
async def readyz(db: Db) -> Response[dict[str, str]]:
    if not await answers(db):
        return Response({"status": "unavailable"}, status_code=503)
    return Response({"status": "ready"})
