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
import os
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

from web.deps import AppSettings, Db

LOCAL = {"127.0.0.1", "::1"}

REFUSALS = Counter(
    "mall_refusals_total", "Requests refused with a problem, by its code", ["code", "status"]
)
POOL = Gauge("mall_db_pool_connections", "PostgreSQL connections of this process", ["state"])

LABELS = ["app_name", "method", "path", "status_code"]
REQUESTS = Counter("mall_requests", "Requests answered, by route and status", LABELS)
LATENCY = Histogram("mall_request_duration_seconds", "Time to answer, by route and status", LABELS)
#: Not counted: the scrapes themselves, health checks, static files, paths that match no route.
UNCOUNTED = ("/metrics", "/healthz", "/readyz", "/static/")
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def record(method: str, template: str, status: int, seconds: float) -> None:
    """Count one answered request (web/observe.py calls it). The labelled series are looked up
    once per route and status, so a request costs a dictionary look-up and two increments."""
    if not template or template.startswith(UNCOUNTED):
        return
    key = (method, template, status)
    series = _series.get(key)
    if series is None:
        labels = ("mall", method, template, str(status))
        series = _series[key] = (REQUESTS.labels(*labels), LATENCY.labels(*labels))
    series[0].inc()
    series[1].observe(seconds)


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
    try:
        async with db.connection() as conn:
            await conn.fetchval("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure to answer means not ready
        return Response({"status": "unavailable"}, status_code=503)
    return Response({"status": "ready"})
