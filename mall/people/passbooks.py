"""The passbook (积分存折) as residents and staff read it: the wallet's ledger entries, with what a
proxy (代领) did beside them. An order a proxy paid or collected shows in both passbooks: the
resident's entry names who collected it (``collected_by``), and the proxy's passbook has an entry
of its own for it (kind ``proxy``, ``on_behalf_of`` the resident), which moves none of the
proxy's points. Reads only.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from piccolo.custom_types import Combinable

import ledger
from ledger.tables import Journal
from mall import query as q
from mall import tables as t
from mall.access import Principal
from mall.db import Database
from mall.people import residents

#: the kind of the entry a proxy's passbook shows for an order they paid or collected
PROXY = "proxy"


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    journal_id: int
    at: datetime
    kind: str
    path: str | None
    memo: str
    amount: int
    balance_after: int
    on_behalf_of: str | None = None
    """On a proxy's own entry: whose points paid (masked name)."""
    collected_by: str | None = None
    """On the resident's entry of an order a proxy paid or collected: who (masked name)."""


class Passbook(msgspec.Struct, frozen=True, kw_only=True):
    entries: list[Entry]
    next: int | None
    """Pass as ``before`` to read the next (older) page; ``None`` on the last page."""


def _entry(e: ledger.Entry, collected_by: str | None) -> Entry:
    return Entry(
        journal_id=e.journal_id,
        at=e.at,
        kind=e.kind,
        path=e.path,
        memo=e.memo,
        amount=e.amount,
        balance_after=e.balance_after,
        collected_by=collected_by,
    )


async def passbook(
    db: Database, p: Principal, resident_id: int, *, limit: int = 20, before: int | None = None
) -> Passbook:
    """A page of the resident's passbook, newest first (``residents.passbook`` checks the
    scope), with the proxy orders of the same span of time merged in."""
    page = await residents.passbook(db, p, resident_id, limit=limit, before=before)
    upper: datetime | None = None
    if before is not None:
        newer = await residents.passbook(db, p, resident_id, limit=1, before=before + 1)
        upper = newer.entries[0].at if newer.entries else None
    lower = page.entries[-1].at if page.next is not None and page.entries else None
    o = t.Order
    async with db.connection() as conn:
        journals = [e.journal_id for e in page.entries]
        by_proxy: dict[int, str] = {}
        if journals:
            rows = await q.fetch(
                conn,
                o.select(o.journal_id, o.proxy.name.as_alias("name")).where(
                    (o.resident == resident_id)
                    & o.proxy.is_not_null()
                    & o.journal_id.is_in(journals)
                ),
            )
            by_proxy = {int(r["journal_id"]): residents.mask_name(r["name"]) for r in rows}
        span: Combinable = o.proxy == resident_id
        if upper is not None:
            span &= o.created_at <= upper
        if lower is not None:
            span &= o.created_at >= lower
        mine = await q.fetch(
            conn,
            o.select(
                o.journal_id,
                o.created_at,
                o.total,
                o.resident.name.as_alias("name"),
            ).where(span),
        )
        memos: dict[int, str] = {}
        if mine:
            j = Journal
            found = await q.fetch(
                conn,
                j.select(j.id, j.memo).where(j.id.is_in([int(r["journal_id"]) for r in mine])),
            )
            memos = {int(r["id"]): r["memo"] for r in found}
    entries = [_entry(e, by_proxy.get(e.journal_id)) for e in page.entries]
    if not mine:
        return Passbook(entries=entries, next=page.next)
    oldest = page.entries[-1] if page.entries else None
    floor = oldest.balance_after - oldest.amount if oldest is not None else 0
    for r in mine:
        at = r["created_at"]
        older = [e for e in page.entries if e.at <= at]
        entries.append(
            Entry(
                journal_id=int(r["journal_id"]),
                at=at,
                kind=PROXY,
                path=None,
                memo=memos.get(int(r["journal_id"]), ""),
                amount=0,
                balance_after=older[0].balance_after if older else floor,
                on_behalf_of=residents.mask_name(r["name"]),
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return Passbook(entries=entries, next=page.next)
