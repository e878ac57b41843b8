"""Helpers for tests: real concurrency, from separate threads with their own connections."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from mall.db import Database, open_database


def race(url: str, n: int, work: Callable[[Database, int], Awaitable[Any]]) -> list[Any]:
    """Run ``work(db, i)`` in ``n`` threads at once, each with its own event loop and connection.

    All threads connect first, then start together at a barrier. Returns each result, or the
    exception it raised, in order.
    """
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        loop = asyncio.new_event_loop()
        db = open_database(url, **({"min_size": 1, "max_size": 1} if "postgres" in url else {}))
        try:
            loop.run_until_complete(_warm(db))
            barrier.wait(timeout=60)
            results[i] = loop.run_until_complete(work(db, i))
        except BaseException as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            loop.run_until_complete(db.close())
            loop.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


async def _warm(db: Database) -> None:
    async with db.connection() as conn:
        await conn.fetchval("SELECT 1")
