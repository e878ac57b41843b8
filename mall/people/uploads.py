"""Spreadsheets kept between a preview and its confirmation (上传暂存).

A page that works without JavaScript cannot send the same file twice (a browser empties the file
field), so the preview keeps the file's bytes under a random token, in the database so that any
server process may take the confirmation; only the staff member who uploaded it may use it, for
``KEEP``. The confirmation reads the file again and checks every row again. Never parses a file.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import msgspec

from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.errors import N_, NotFound

KEEP = timedelta(hours=1)


class Kept(msgspec.Struct, frozen=True, kw_only=True):
    filename: str
    data: bytes


def now() -> datetime:
    return datetime.now(UTC)


async def keep(db: Database, p: Principal, slug: str, kind: str, filename: str, data: bytes) -> str:
    """The token naming the kept file (staff of community ``slug``); files kept longer than
    ``KEEP`` go first."""
    user = access.staff(p)
    if user.user_id is None:
        raise NotFound()
    token = secrets.token_urlsafe(24)
    async with db.transaction() as conn:
        community = await access.community(conn, user, slug, access.STAFF_ROLES)
        await q.execute(conn, t.Upload.delete().where(t.Upload.created_at < now() - KEEP))
        await q.execute(
            conn,
            t.Upload.insert(
                t.Upload(
                    token=token,
                    kind=kind,
                    community=community["id"],
                    created_by=user.user_id,
                    filename=(filename or "")[:200],
                    data=data,
                    created_at=now(),
                )
            ),
        )
    return token


async def kept(db: Database, p: Principal, token: str, kind: str) -> Kept:
    """The file kept under ``token`` for this staff member; anyone else's, or one too old, is
    ``not_found``."""
    user = access.staff(p)
    async with db.connection() as conn:
        row = await q.fetchrow(
            conn,
            t.Upload.select(t.Upload.filename, t.Upload.data)
            .where(
                (t.Upload.token == (token or "")[:64])
                & (t.Upload.kind == kind)
                & (t.Upload.created_by == user.user_id)
                & (t.Upload.created_at >= now() - KEEP)
            )
            .first(),
        )
    if row is None:
        raise NotFound(N_("This upload has expired. Please choose the file again."))
    return Kept(filename=row["filename"], data=bytes(row["data"]))


async def forget(db: Database, token: str) -> None:
    async with db.transaction() as conn:
        await q.execute(conn, t.Upload.delete().where(t.Upload.token == token))
