"""``/metrics`` for the operator's Prometheus and ``/readyz`` for the proxy in front."""

from __future__ import annotations

import os
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
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALL_METRICS_TOKEN", "s3cret-for-prometheus")
    from mall.settings import get_settings

    get_settings.cache_clear()
    try:
        with TestClient(create_app(db_url)) as client:
            for order in (41, 42):  # two ids, one route
                client.get(f"/api/v1/orders/{order}")  # not signed in: unauthenticated
            shown = client.get(
                "/metrics", headers={"Authorization": "Bearer s3cret-for-prometheus"}
            )
    finally:
        get_settings.cache_clear()
    assert shown.status_code == 200
    text = shown.text
    assert 'mall_refusals_total{code="unauthenticated",status="401"}' in text
    route = [
        line
        for line in text.splitlines()
        if line.startswith("mall_requests_total{") and "/api/v1/orders/{" in line
    ]
    assert len(route) == 1 and route[0].endswith(" 2.0"), route
    assert "/api/v1/orders/41" not in text  # the route's template, not each id
    assert "mall_request_duration_seconds_bucket" in text


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
