"""The app's skeleton: health, the base page, static files, security headers, errors."""

from __future__ import annotations

import gc
from collections.abc import Callable

from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient


def test_healthz_answers_ok(client: TestClient[Litestar]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_home_page_is_chinese_and_loads_pinned_htmx(client: TestClient[Litestar]) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert '<html lang="zh-Hans"' in page.text and "邻里积分超市" in page.text
    assert "/static/vendor/htmx/htmx-2.0.11.min.js" in page.text
    script = client.get("/static/vendor/htmx/htmx-2.0.11.min.js")
    assert script.status_code == 200 and b'version:"2.0.11"' in script.content


def test_home_page_leads_residents_and_staff_in(client: TestClient[Litestar]) -> None:
    page = client.get("/").text
    for href, label in (
        ("/me", "我的积分"),
        ("/start", "居民：怎样开通"),
        ("/sign-in", "工作人员登录"),
    ):
        assert f'href="{href}"' in page and label in page
    assert client.get("/me", follow_redirects=False).headers["location"].startswith("/start")


def test_every_response_carries_the_security_headers(client: TestClient[Litestar]) -> None:
    for path in ("/", "/healthz", "/static/css/app.css", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert (
            "script-src 'self'" in csp
            and "frame-ancestors 'none'" in csp
            and "unsafe-inline" not in csp
        )
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"


def test_unknown_api_path_is_a_problem_document(client: TestClient[Litestar]) -> None:
    response = client.get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "not_found" and body["status"] == 404 and "找不到" in body["title"]


def test_unknown_page_is_a_chinese_page(client: TestClient[Litestar]) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    assert "找不到" in response.text and "返回首页" in response.text


def test_english_is_one_tap_away(client: TestClient[Litestar]) -> None:
    switched = client.get("/lang/en?next=/", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/"
    page = client.get("/")
    assert '<html lang="en"' in page.text and "Community Points Mall" in page.text
    assert client.get("/api/v1/nowhere").json()["title"] == "Not found."


def test_language_switch_never_redirects_off_site(client: TestClient[Litestar]) -> None:
    response = client.get("/lang/en?next=//evil.example/", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_openapi_document_is_served(client: TestClient[Litestar]) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200 and response.json()["info"]["title"].startswith(
        "邻里积分超市"
    )


def test_static_files_are_compressed_and_cached_for_an_hour(client: TestClient[Litestar]) -> None:
    response = client.get(
        "/static/vendor/htmx/htmx-2.0.11.min.js", headers={"accept-encoding": "gzip"}
    )
    assert response.headers["content-encoding"] == "gzip"
    assert int(response.headers["content-length"]) < 20_000  # 52 KB raw
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert "cache-control" not in client.get("/static/nothing-here.js").headers


async def test_the_served_app_freezes_its_startup_objects_out_of_the_collector(
    db_url: str, setting: Callable[[str, str], None]
) -> None:
    """``mall serve``'s app: once started, what startup built is out of the collector's reach
    (full passes over it stalled requests by up to 92 ms), and it still answers."""
    from web.app import create_served_app

    setting("MALL_DATABASE_URL", db_url)
    gc.unfreeze()
    try:
        app = create_served_app()
        assert gc.get_freeze_count() == 0
        async with AsyncTestClient(app) as client:
            assert gc.get_freeze_count() > 10_000
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        gc.unfreeze()
