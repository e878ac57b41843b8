"""What an operator watches: ``/metrics`` in Prometheus's text format, and ``/readyz``.

``/metrics``: requests and their latency by route (Litestar's Prometheus middleware labels them
with the route's template, ``/api/v1/orders/{order_id:int}``, so ids never multiply the series),
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
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)

from web.deps import AppSettings, Db

LOCAL = {"127.0.0.1", "::1"}

REFUSALS = Counter(
    "mall_refusals_total", "Requests refused with a problem, by its code", ["code", "status"]
)
POOL = Gauge("mall_db_pool_connections", "PostgreSQL connections of this process", ["state"])

PROMETHEUS = PrometheusConfig(
    app_name="mall",
    prefix="mall",
    group_path=True,
    exclude=["^/metrics", "^/static/", "^/healthz", "^/readyz"],
    exclude_unhandled_paths=True,
)


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
