"""The database layer: what a connection returned to the pool carries over to the next user."""

from __future__ import annotations

import pytest

from mall.db import open_database
from tests.conftest import ENGINE


@pytest.mark.skipif(ENGINE != "postgres", reason="the pool exists on PostgreSQL only")
async def test_a_transaction_left_open_is_rolled_back_when_the_connection_returns(
    db_url: str,
) -> None:
    db = open_database(db_url, min_size=1, max_size=1)
    try:
        async with db.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO mall_street (name) VALUES ('left open')")
        async with db.connection() as conn:  # the same, single pooled connection
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 0
            await conn.execute("INSERT INTO mall_street (name) VALUES ('committed')")
        async with db.connection() as conn:
            assert await conn.fetchval("SELECT COUNT(*) FROM mall_street") == 1
    finally:
        await db.close()
