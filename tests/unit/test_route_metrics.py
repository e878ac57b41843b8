"""Requests by route are counted in plain numbers in one process (``Routes``) and in
Prometheus's own series when several workers share them (``SharedRoutes``): both must give
Prometheus the same figures, bucket by bucket."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from web.metrics import Routes, SharedRoutes

CALLS = [
    (("GET", "/me", 200), 0.004),
    (("GET", "/me", 200), 0.005),  # on a bucket's bound: counted in it (le)
    (("GET", "/me", 200), 0.3),
    (("POST", "/api/v1/outlets/{outlet_id}/orders", 201), 0.012),
    (("POST", "/api/v1/outlets/{outlet_id}/orders", 409), 42.0),  # beyond the last bound
]


def _exposed(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return sorted(line for line in text.splitlines() if line and "_created" not in line)


def test_one_process_and_shared_workers_expose_the_same_figures() -> None:
    here, shared = CollectorRegistry(), CollectorRegistry()
    routes = Routes()
    here.register(routes)
    workers = SharedRoutes(shared)
    for key, seconds in CALLS:
        routes.record(key, seconds)
        workers.record(key, seconds)
    lines = _exposed(here)
    assert lines == _exposed(shared)
    me = 'app_name="mall",method="GET",path="/me",status_code="200"'
    assert f"mall_requests_total{{{me}}} 3.0" in lines
    assert (
        f'mall_request_duration_seconds_bucket{{app_name="mall",le="0.005",{me[16:]}}} 2.0' in lines
    )
    assert f"mall_request_duration_seconds_sum{{{me}}} 0.309" in lines
