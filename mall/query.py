"""Piccolo's query builder, run on our own connections.

Every path not measured as hot writes its SQL with Piccolo's query builder over the tables of
``mall.tables``, ``ledger.tables`` and ``catalog.tables``; the measured hot paths (the checkout,
the posting, the pay code, a sign-in's session) keep their hand-written statements, each in
the one module that owns it. The builder only writes the statement: it runs through
``mall.db``'s connection, inside the caller's transaction (SQLite's ``BEGIN IMMEDIATE`` and group
commit, PostgreSQL's pool), which Piccolo's own engine cannot join::

    from mall import query as q
    from mall.tables import Grid

    rows = await q.fetch(conn, Grid.select(Grid.id, Grid.code).where(Grid.community == cid))

Piccolo asks its engine which dialect to write, so the process names ``mall.piccolo_conf`` (the
engine of ``MALL_DATABASE_URL``, never connected from here) unless it names another; a query
built for one dialect and run on the other is refused rather than guessed at. Building and
compiling a statement costs about 70 µs, which is why the hot paths do not.
"""

from __future__ import annotations

import os
from typing import Any

from piccolo.query.base import Query
from piccolo.query.proxy import Proxy

from ledger.connection import Connection, Row

os.environ.setdefault("PICCOLO_CONF", "mall.piccolo_conf")

#: a builder query, or ``.first()``/``.output()`` wrapping one
Statement = Query[Any, Any] | Proxy[Any, Any]


def compiled(query: Statement, dialect: str) -> tuple[str, list[Any]]:
    """The statement and its arguments, with ``?`` placeholders as every statement here has
    (a PostgreSQL connection numbers them)."""
    if isinstance(query, Proxy):
        query = query.query
    if query.engine_type != dialect:
        raise RuntimeError(
            f"a query written for {query.engine_type} cannot run on {dialect}: "
            "PICCOLO_CONF and MALL_DATABASE_URL name different databases"
        )
    (statement,) = query.querystrings
    return statement.compile_string(engine_type="sqlite")


async def fetch(conn: Connection, query: Statement) -> list[Row]:
    sql, args = compiled(query, conn.dialect)
    return await conn.fetch(sql, *args)


async def fetchrow(conn: Connection, query: Statement) -> Row | None:
    sql, args = compiled(query, conn.dialect)
    return await conn.fetchrow(sql, *args)


async def fetchval(conn: Connection, query: Statement) -> Any:
    sql, args = compiled(query, conn.dialect)
    return await conn.fetchval(sql, *args)


async def execute(conn: Connection, query: Statement) -> None:
    sql, args = compiled(query, conn.dialect)
    await conn.execute(sql, *args)
