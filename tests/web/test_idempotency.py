"""The Idempotency-Key header rides on the ledger's own idempotency: one mechanism for both.

The endpoint here is built for the test from the real pieces (the header mapping, the ledger, the
database, the error mapping), because the money-moving endpoints of API.md arrive with later issues.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar, Request, post
from litestar.params import JSONBody
from litestar.testing import TestClient

import ledger
from mall.db import open_database
from mall.org import points
from web.idempotency import idempotency
from web.problems import EXCEPTION_HANDLERS


class AwardIn(msgspec.Struct):
    points: int


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient[Litestar]]:
    @post("/api/v1/test/awards")
    async def award(request: Request[Any, Any, Any], data: JSONBody[AwardIn]) -> dict[str, Any]:
        db = request.app.state.db
        idem = await idempotency(request, principal="staff-1")
        async with db.transaction() as conn:
            book = await points.open_community_book(conn, "c1", "幸福里社区")
            await ledger.open_account(conn, book, points.wallet(1), no_negative=True)
            await ledger.post_journal(
                conn, book, "grant", [("mint", -100), ("budget", 100)], idempotency_key="grant"
            )
            journal = await ledger.post_journal(
                conn,
                book,
                "award",
                [("budget", -data.points), ("wallet:r1", data.points)],
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
            )
            balance = await ledger.get_balance(conn, book, "wallet:r1")
        return {"journal_id": journal.id, "balance": balance.balance}

    async def open_db(app: Litestar) -> None:
        app.state.db = open_database(db_url)

    async def close_db(app: Litestar) -> None:
        await app.state.db.close()

    app = Litestar(
        [award], exception_handlers=EXCEPTION_HANDLERS, on_startup=[open_db], on_shutdown=[close_db]
    )
    with TestClient(app) as c:
        yield c


def test_retry_with_same_key_and_body_returns_the_first_result(
    client: TestClient[Litestar],
) -> None:
    first = client.post(
        "/api/v1/test/awards", json={"points": 5}, headers={"Idempotency-Key": "k1"}
    )
    again = client.post(
        "/api/v1/test/awards", json={"points": 5}, headers={"Idempotency-Key": "k1"}
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["journal_id"] == first.json()["journal_id"]
    assert again.json()["balance"] == 5


def test_same_key_with_another_body_is_idempotency_key_reused(client: TestClient[Litestar]) -> None:
    client.post("/api/v1/test/awards", json={"points": 5}, headers={"Idempotency-Key": "k1"})
    other = client.post(
        "/api/v1/test/awards", json={"points": 6}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "idempotency_key_reused"
    fresh = client.post(
        "/api/v1/test/awards", json={"points": 6}, headers={"Idempotency-Key": "k2"}
    )
    assert fresh.json()["balance"] == 11


def test_missing_key_is_a_validation_error_and_moves_nothing(client: TestClient[Litestar]) -> None:
    response = client.post("/api/v1/test/awards", json={"points": 5})
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert "Idempotency-Key" in response.json()["detail"]
    ok = client.post("/api/v1/test/awards", json={"points": 1}, headers={"Idempotency-Key": "k3"})
    assert ok.json()["balance"] == 1


def test_overdrawing_the_budget_is_insufficient_points(client: TestClient[Litestar]) -> None:
    response = client.post(
        "/api/v1/test/awards", json={"points": 101}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 409 and response.json()["code"] == "insufficient_points"
