"""A test client for the JSON API, and the assertion every refusal shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

T = TypeVar("T")


class Api:
    """A test client bound to the app, plus a way to run mall services on the app's database."""

    def __init__(self, client: TestClient[Litestar]) -> None:
        self.client = client

    def run(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        return self.client.blocking_portal.call(fn, self.client.app.state.db, *args)

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Response:
        all_headers = dict(headers or {})
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if json is not None:
            kwargs["json"] = json
        return self.client.request(method, "/api/v1" + path, headers=all_headers, **kwargs)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("GET", path, token, **kwargs)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("POST", path, token, **kwargs)

    def put(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("PUT", path, token, **kwargs)

    def delete(self, path: str, token: str | None = None, **kwargs: Any) -> Response:
        return self.request("DELETE", path, token, **kwargs)


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is a problem document with ``status`` and ``code``; return its body."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code, body
    return body
