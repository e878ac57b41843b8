"""``/metrics`` for the operator's Prometheus and ``/readyz`` for the proxy in front."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from tests.conftest import ENGINE, ENGINE_URL, pg_admin, with_database
from tests.support import serving
from web.app import create_app


def test_metrics_are_not_shown_to_a_stranger_without_the_token(db_url: str) -> None:
    with TestClient(create_app(db_url)) as client:  # the test client is not on this machine
        assert client.get("/metrics").status_code == 404
        wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 404


def test_metrics_count_requests_by_route_and_refusals_by_code(
    db_url: str, setting: Callable[[str, str], None]
) -> None:
    setting("MALL_METRICS_TOKEN", "s3cret-for-prometheus")
    bearer = {"Authorization": "Bearer s3cret-for-prometheus"}
    route = (
        'mall_requests_total{app_name="mall",method="GET",'
        'path="/api/v1/orders/{order_id}",status_code="401"} '
    )
    refusal = 'mall_refusals_total{code="unauthenticated",status="401"} '

    def value(text: str, series: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(series)]
        return float(lines[0].removeprefix(series)) if lines else 0.0

    with TestClient(create_app(db_url)) as client:
        before = client.get("/metrics", headers=bearer).text  # the figures are per process
        for order in (41, 42):  # two ids, one route
            client.get(f"/api/v1/orders/{order}")  # not signed in: unauthenticated
        shown = client.get("/metrics", headers=bearer)
    assert shown.status_code == 200
    assert value(shown.text, route) - value(before, route) == 2
    assert value(shown.text, refusal) - value(before, refusal) == 2
    assert "/api/v1/orders/41" not in shown.text  # the route's template, not each id
    assert "mall_request_duration_seconds_bucket" in shown.text


def test_the_machine_itself_reads_metrics_without_a_token(db_url: str, tmp_path: Path) -> None:
    with serving(db_url, tmp_path) as base:
        assert httpx.get(f"{base}/sign-in", timeout=5).status_code == 200
        shown = httpx.get(f"{base}/metrics", timeout=5)
        ready = httpx.get(f"{base}/readyz", timeout=5)
    assert shown.status_code == 200
    assert 'mall_requests_total{app_name="mall",method="GET",path="/sign-in"' in shown.text
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


@pytest.mark.skipif(
    ENGINE != "postgres", reason="a SQLite file cannot be taken from a running process"
)
def test_readyz_says_unavailable_when_the_database_goes_away(tmp_path: Path) -> None:
    name = f"mall_readyz_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    try:
        with TestClient(create_app(with_database(ENGINE_URL, name))) as client:
            assert client.get("/readyz").status_code == 200
            pg_admin(ENGINE_URL, f"DROP DATABASE {name} WITH (FORCE)")
            gone = client.get("/readyz")
            assert gone.status_code == 503 and gone.json() == {"status": "unavailable"}
            assert client.get("/healthz").status_code == 200  # alive, just not ready
    finally:
        pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
