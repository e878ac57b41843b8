"""A resident's own choices kept on their record: whether they appear, with their name masked,
on the community's public ranking (积分榜, ``mall.reports.ranking``). Off until they opt in; only
the resident themselves may change it."""

from __future__ import annotations

from mall import access
from mall import query as q
from mall import tables as t
from mall.access import Principal, audit
from mall.db import Database, must_exist
from mall.errors import Invalid


async def ranking_opt_in(db: Database, p: Principal) -> bool:
    """Whether the signed-in resident appears on the ranking."""
    p = access.resident_self(p)
    r = t.Resident
    async with db.connection() as conn:
        row = must_exist(
            await q.fetchrow(conn, r.select(r.ranking_opt_in).where(r.id == p.resident_id))
        )
    return bool(row["ranking_opt_in"])


async def set_ranking_opt_in(db: Database, p: Principal, show: bool, *, ip: str = "") -> bool:
    """The signed-in resident opts in to the ranking (``True``) or out (``False``)."""
    p = access.resident_self(p)
    if not isinstance(show, bool):
        raise Invalid()
    r = t.Resident
    async with db.transaction() as conn:
        await q.execute(conn, r.update({r.ranking_opt_in: show}).where(r.id == p.resident_id))
        await audit.record(
            conn,
            p,
            "resident.ranking",
            community_id=p.community_id,
            target=f"resident:{p.resident_id}",
            ip=ip,
            show=show,
        )
    return show
