"""Partners' settlement (红色合伙人结算): for each partner merchant of a community, the points
residents redeemed there in a month (orders placed, less refunds made), by item, for the
community to settle with the merchant. Read only; the rows also export as a spreadsheet."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import msgspec

import catalog
from mall import access, days
from mall import query as q
from mall import tables as t
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.reports.sheets import PAGE, Rows, Scope, clean

PARTNER = "partner"

HEADERS = ("兑换点", "商品或服务", "订单数", "数量", "兑换积分", "退还积分", "结算积分")


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One item at one partner: orders placed, how many, points redeemed and refunded."""

    item: str
    orders: int
    quantity: int
    redeemed: int
    refunded: int

    @property
    def net(self) -> int:
        return self.redeemed - self.refunded


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    """A partner merchant's month: its items and totals."""

    outlet_id: int
    name: str
    orders: int
    redeemed: int
    refunded: int
    lines: list[Line]

    @property
    def net(self) -> int:
        return self.redeemed - self.refunded


class Settlement(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    month: str
    """``YYYY-MM``."""
    start: date
    end: date
    partners: list[Partner]


def month_days(value: str | None, *, today: date | None = None) -> tuple[str, date, date]:
    """``2026-11`` → its first and last day; by default this month (China time)."""
    first, last = days.month(value, today=today)
    return first.strftime("%Y-%m"), first, last


class _Tally:
    def __init__(self) -> None:
        self.name = ""
        self.orders: set[int] = set()
        self.quantity = self.redeemed = self.refunded = 0


async def _lines(
    db: Database, partners: list[int], scope: Scope, *, refunds: bool
) -> AsyncIterator[dict[str, int | str]]:
    """Order lines at the partners: of orders placed in the days, or the lines refunds made in
    them gave back (with the quantity given back)."""
    if refunds:
        async for given in _refunded_lines(db, partners, scope):
            yield given
        return
    OL, Od = t.OrderLine, t.OrderLine.order
    after = 0
    while True:
        query = (
            OL.select(
                OL.id,
                OL.order.as_alias("order_id"),
                Od._.outlet.as_alias("outlet_id"),
                OL.item.as_alias("item_id"),
                OL.name,
                OL.quantity,
                OL.price_points,
            )
            .where(
                (Od._.community == scope.community_id)
                & Od._.outlet.is_in(partners)
                & (Od._.created_at >= scope.since)
                & (Od._.created_at < scope.until)
                & (OL.id > after)
            )
            .order_by(OL.id)
            .limit(PAGE)
        )
        async with db.connection() as conn:
            page = await q.fetch(conn, query)
        for r in page:
            yield dict(r)
        if len(page) < PAGE:
            return
        after = int(page[-1]["id"])


async def _refunded_lines(
    db: Database, partners: list[int], scope: Scope
) -> AsyncIterator[dict[str, int | str]]:
    RL = t.RefundLine
    R, OL = RL.refund, RL.order_line
    after = 0
    while True:
        query = (
            RL.select(
                RL.id,
                OL._.order.as_alias("order_id"),
                OL._.order._.outlet.as_alias("outlet_id"),
                OL._.item.as_alias("item_id"),
                OL._.name.as_alias("name"),
                RL.quantity,
                OL._.price_points.as_alias("price_points"),
            )
            .where(
                (R._.community == scope.community_id)
                & OL._.order._.outlet.is_in(partners)
                & (R._.created_at >= scope.since)
                & (R._.created_at < scope.until)
                & (RL.id > after)
            )
            .order_by(RL.id)
            .limit(PAGE)
        )
        async with db.connection() as conn:
            page = await q.fetch(conn, query)
        for r in page:
            yield dict(r)
        if len(page) < PAGE:
            return
        after = int(page[-1]["id"])


async def _partners(db: Database, scope: Scope) -> list[Partner]:
    async with db.connection() as conn:
        outlets = [
            o for o in await catalog.list_outlets(conn, scope.community_id) if o["kind"] == PARTNER
        ]
    ids = [int(o["id"]) for o in outlets]
    tallies: dict[tuple[int, int], _Tally] = {}
    if ids:
        for refunds in (False, True):
            async for r in _lines(db, ids, scope, refunds=refunds):
                tally = tallies.setdefault((int(r["outlet_id"]), int(r["item_id"])), _Tally())
                tally.name = str(r["name"])
                points = int(r["quantity"]) * int(r["price_points"])
                if refunds:
                    tally.refunded += points
                else:
                    tally.orders.add(int(r["order_id"]))
                    tally.quantity += int(r["quantity"])
                    tally.redeemed += points
    found = []
    for o in outlets:
        mine = sorted(
            ((item, tally) for (outlet, item), tally in tallies.items() if outlet == o["id"]),
            key=lambda pair: pair[1].name,
        )
        lines = [
            Line(
                item=tally.name,
                orders=len(tally.orders),
                quantity=tally.quantity,
                redeemed=tally.redeemed,
                refunded=tally.refunded,
            )
            for _, tally in mine
        ]
        orders: set[int] = set().union(*(tally.orders for _, tally in mine))
        found.append(
            Partner(
                outlet_id=int(o["id"]),
                name=o["name"],
                orders=len(orders),
                redeemed=sum(line.redeemed for line in lines),
                refunded=sum(line.refunded for line in lines),
                lines=lines,
            )
        )
    return found


async def monthly(
    db: Database, p: Principal | None, slug: str, month: str | None = None
) -> Settlement:
    """Every partner merchant of the community in the month (staff of it, administrators)."""
    staff = access.staff(p)
    label, start, end = month_days(month)
    async with db.connection() as conn:
        community = await access.community(conn, staff, slug, STAFF_ROLES)
    since, until = days.utc_bounds(start, end)
    scope = Scope(
        community_id=int(community["id"]),
        slug=community["slug"],
        book=int(community["book"]),
        start=start,
        end=end,
        since=since,
        until=until,
    )
    return Settlement(
        slug=scope.slug, month=label, start=start, end=end, partners=await _partners(db, scope)
    )


async def rows(db: Database, scope: Scope) -> Rows:
    """The settlement as spreadsheet rows: each item of each partner, then the partner's total."""
    for partner in await _partners(db, scope):
        for line in partner.lines:
            yield clean(
                [
                    partner.name, line.item, line.orders, line.quantity, line.redeemed,
                    line.refunded, line.net,
                ]
            )  # fmt: skip
        yield clean(
            [
                partner.name, "合计", partner.orders, sum(li.quantity for li in partner.lines),
                partner.redeemed, partner.refunded, partner.net,
            ]
        )  # fmt: skip
