"""Helpers for tests: real concurrency, from separate threads with their own connections, and a
real server process (``mall serve``) to send real concurrent HTTP requests to."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from mall.db import Database, open_database

T = TypeVar("T")


def on_database(url: str, fn: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``fn(db)`` on its own connection and event loop, outside the racing threads: to
    prepare a race or to look at what it left."""

    async def run() -> T:
        db = open_database(url)
        try:
            return await fn(db)
        finally:
            await db.close()

    return asyncio.run(run())


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(database_url: str, tmp: Path) -> Iterator[str]:
    """``mall serve`` on a free port and ``database_url``; yields its base URL once it answers."""
    import httpx
    import pytest

    port = free_port()
    env = {
        **os.environ,
        "MALL_DATABASE_URL": database_url,
        "MALL_VAR_DIR": str(tmp / "var"),
        "MALL_BASE_URL": f"http://127.0.0.1:{port}",
    }
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        try:
            while True:
                try:
                    httpx.get(f"{base}/healthz", timeout=2)
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"server did not start: {log_path.read_text()}")
                    time.sleep(0.2)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=30)
