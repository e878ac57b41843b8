"""``mall serve`` for one worker under cProfile, for ``bench/checkout.py --profile``; bench only.

    python -m bench._profile_server --port P [--workers 1]   (BENCH_PROFILE_OUT=path required)

Every statement through ``mall.db`` is counted and timed (wall time on the event loop, so on
PostgreSQL it includes the round trip and any wait for a row lock). cProfile counts CPU time (not wall
time), from the app's startup on. On SIGTERM uvicorn shuts down, and this writes cProfile's stats to ``$BENCH_PROFILE_OUT`` and the statements to
``$BENCH_PROFILE_OUT.sql.json``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import os
import signal
import time
from collections import defaultdict
from typing import Any

import uvicorn

from mall import db as mall_db

STATEMENTS: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])


@functools.lru_cache(maxsize=512)
def _label(method: str, sql: str) -> str:
    text = " ".join(sql.split())
    return f"{method}: {text[:90]}{'…' if len(text) > 90 else ''}"


def _timed(method: str, fn: Any) -> Any:
    @functools.wraps(fn)
    async def wrapper(self: Any, sql: str, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await fn(self, sql, *args)
        finally:
            _add(_label(method, sql), time.perf_counter() - t0)

    return wrapper


def _add(label: str, seconds: float) -> None:
    entry = STATEMENTS[label]
    entry[0] += 1
    entry[1] += seconds


class _TimedTransaction:
    """Wraps a database's ``transaction()`` context manager and times its two ends."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __aenter__(self) -> Any:
        self.t0 = time.perf_counter()
        conn = await self.inner.__aenter__()
        _add("(transaction: enter, i.e. lock/acquire + BEGIN)", time.perf_counter() - self.t0)
        return conn

    async def __aexit__(self, *exc: Any) -> Any:
        t1 = time.perf_counter()
        try:
            return await self.inner.__aexit__(*exc)
        finally:
            now = time.perf_counter()
            _add("(transaction: leave, i.e. COMMIT + release)", now - t1)
            _add("(transaction: whole, enter to leave)", now - self.t0)


def _count_transactions(cls: Any) -> None:
    inner = cls.transaction

    @functools.wraps(inner)
    def transaction(self: Any) -> Any:
        cm = inner(self)
        if self._current.get() is not None:  # nested: part of the outer one
            return cm
        return _TimedTransaction(cm)

    cls.transaction = transaction


def instrument() -> None:
    for cls in (mall_db.SqliteConnection, mall_db.PostgresConnection):
        for method in ("execute", "executemany", "fetch", "fetchrow", "fetchval"):
            setattr(cls, method, _timed(method, getattr(cls, method)))
    for database in (mall_db.SqliteDatabase, mall_db.PostgresDatabase):
        _count_transactions(database)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.workers != 1:
        parser.error("the profiled server runs one worker")
    out = os.environ["BENCH_PROFILE_OUT"]
    instrument()

    def stop(*_: Any) -> None:  # uvicorn re-raises the SIGTERM it caught once it has shut down
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    # CPU time, not wall time: other processes on the machine do not inflate it
    profile = cProfile.Profile(time.process_time)

    def create_app() -> Any:  # profile requests only, from startup on (not the imports)
        from web.app import create_app

        app = create_app()
        app.on_startup.append(lambda: profile.enable())
        return app

    try:
        uvicorn.run(
            create_app,
            factory=True,
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            access_log=False,
        )
    finally:
        profile.disable()
        profile.dump_stats(out)
        with open(f"{out}.sql.json", "w") as f:
            json.dump(STATEMENTS, f)


if __name__ == "__main__":
    main()
