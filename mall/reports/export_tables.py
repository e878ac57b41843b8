"""The tables staff export (awards, orders, residents, stock movements, every passbook), each read
a page at a time by id (keyset) so that an export of any size holds one page in memory. Mall
tables through the query builder; postings and stock movements through the cores' own reads.
Each connection is held for one page only, never for the whole download."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import catalog
import ledger
from mall import query as q
from mall import tables as t
from mall.db import Database
from mall.org import points
from mall.reports.sheets import (
    AWARD_WORDS,
    JOURNAL_WORDS,
    MOVEMENT_WORDS,
    ORDER_WORDS,
    PAGE,
    PATH_WORDS,
    Rows,
    Scope,
    clean,
    stamp,
    word,
)

Reader = Callable[[Database, Scope], Rows]

AWARD_HEADERS = (
    "编号", "奖励单号", "时间", "居民编号", "居民", "规则", "途径", "积分", "状态",
    "经办人", "审批人", "审批时间", "撤销时间", "撤销原因", "备注",
)  # fmt: skip


async def awards(db: Database, scope: Scope) -> Rows:
    """One row per resident of each award made in the days (posted, waiting, rejected or
    reversed alike: the status says which)."""
    L, A = t.AwardLine, t.AwardLine.award
    after = 0
    while True:
        query = (
            L.select(
                L.id,
                L.award.as_alias("award_id"),
                A.created_at.as_alias("created_at"),
                L.resident.as_alias("resident_id"),
                L.resident.name.as_alias("resident"),
                L.award._.rule._.name.as_alias("rule"),
                L.award._.rule._.path.as_alias("path"),
                L.points,
                A.status.as_alias("status"),
                L.award._.created_by._.username.as_alias("created_by"),
                L.award._.decided_by._.username.as_alias("decided_by"),
                A.decided_at.as_alias("decided_at"),
                A.reversed_at.as_alias("reversed_at"),
                A.reversal_reason.as_alias("reversal_reason"),
                A.memo.as_alias("memo"),
            )
            .where(
                (A.community == scope.community_id)
                & (A.created_at >= scope.since)
                & (A.created_at < scope.until)
                & (L.id > after)
            )
            .order_by(L.id)
            .limit(PAGE)
        )
        async with db.connection() as conn:
            page = await q.fetch(conn, query)
        for r in page:
            yield clean(
                [
                    r["id"], r["award_id"], stamp(r["created_at"]), r["resident_id"],
                    r["resident"], r["rule"], word(PATH_WORDS, r["path"]), r["points"],
                    word(AWARD_WORDS, r["status"]), r["created_by"] or "", r["decided_by"] or "",
                    stamp(r["decided_at"]), stamp(r["reversed_at"]), r["reversal_reason"],
                    r["memo"],
                ]
            )  # fmt: skip
        if len(page) < PAGE:
            return
        after = int(page[-1]["id"])


ORDER_HEADERS = (
    "订单号", "时间", "兑换点", "居民编号", "居民", "商品", "积分", "状态", "退还时间", "经办人",
)  # fmt: skip


async def orders(db: Database, scope: Scope) -> Rows:
    """One row per order placed in the days, its goods on one line (香皂×2、食用油×1)."""
    Od, OL = t.Order, t.OrderLine
    async with db.connection() as conn:
        outlets = {o["id"]: o["name"] for o in await catalog.list_outlets(conn, scope.community_id)}
    after = 0
    while True:
        query = (
            Od.select(
                Od.id,
                Od.created_at,
                Od.outlet.as_alias("outlet_id"),
                Od.resident.as_alias("resident_id"),
                Od.resident.name.as_alias("resident"),
                Od.total,
                Od.status,
                Od.refunded_at,
                Od.user_id.username.as_alias("user"),
            )
            .where(
                (Od.community == scope.community_id)
                & (Od.created_at >= scope.since)
                & (Od.created_at < scope.until)
                & (Od.id > after)
            )
            .order_by(Od.id)
            .limit(PAGE)
        )
        async with db.connection() as conn:
            page = await q.fetch(conn, query)
            ids = [int(r["id"]) for r in page]
            lines = (
                await q.fetch(
                    conn,
                    OL.select(OL.order, OL.name, OL.quantity)
                    .where(OL.order.is_in(ids))
                    .order_by(OL.id),
                )
                if ids
                else []
            )
        goods: dict[int, list[str]] = defaultdict(list)
        for line in lines:
            goods[int(line["order"])].append(f"{line['name']}×{line['quantity']}")
        for r in page:
            yield clean(
                [
                    r["id"], stamp(r["created_at"]), outlets.get(r["outlet_id"], ""),
                    r["resident_id"], r["resident"], "、".join(goods[int(r["id"])]), r["total"],
                    word(ORDER_WORDS, r["status"]), stamp(r["refunded_at"]), r["user"] or "",
                ]
            )  # fmt: skip
        if len(page) < PAGE:
            return
        after = ids[-1]


RESIDENT_HEADERS = (
    "居民编号", "姓名", "电话", "网格", "楼栋", "单元", "登记时间", "注销时间", "现有积分",
)  # fmt: skip


async def residents(db: Database, scope: Scope) -> Rows:
    """The roster as it stood at the end of the days: every resident registered by then (closed
    ones too, with the date), with the points each holds now."""
    R = t.Resident
    after = 0
    while True:
        query = (
            R.select(
                R.id,
                R.name,
                R.phone,
                R.grid.name.as_alias("grid"),
                R.building,
                R.unit,
                R.created_at,
                R.closed_at,
            )
            .where(
                (R.community == scope.community_id) & (R.created_at < scope.until) & (R.id > after)
            )
            .order_by(R.id)
            .limit(PAGE)
        )
        async with db.connection() as conn:
            page = await q.fetch(conn, query)
            held = await ledger.balances(
                conn, scope.book, [points.wallet(int(r["id"])) for r in page]
            )
        for r in page:
            yield clean(
                [
                    r["id"], r["name"], r["phone"] or "", r["grid"] or "", r["building"] or "",
                    r["unit"] or "", stamp(r["created_at"]), stamp(r["closed_at"]),
                    held.get(points.wallet(int(r["id"])), 0),
                ]
            )  # fmt: skip
        if len(page) < PAGE:
            return
        after = int(page[-1]["id"])


MOVEMENT_HEADERS = (
    "编号", "时间", "兑换点", "商品编码", "商品", "数量变动", "原因", "关联单据", "捐赠单位",
    "备注", "变动后库存",
)  # fmt: skip


async def stock_movements(db: Database, scope: Scope) -> Rows:
    """Every stock movement at the community's outlets in the days."""
    after = 0
    while True:
        async with db.connection() as conn:
            page = await catalog.movements(
                conn,
                scope.community_id,
                since=scope.since,
                until=scope.until,
                after_id=after,
                limit=PAGE,
            )
        for m in page:
            yield clean(
                [
                    m.id, stamp(m.at), m.outlet, m.sku, m.item, m.quantity,
                    word(MOVEMENT_WORDS, m.reason), m.reference, m.donor or "", m.memo,
                    m.level_after,
                ]
            )  # fmt: skip
        if len(page) < PAGE:
            return
        after = page[-1].id


PASSBOOK_HEADERS = (
    "流水号", "时间", "居民编号", "居民", "摘要", "途径", "说明", "积分变动", "余额", "凭证号",
)  # fmt: skip


def resident_of(account: str) -> int | None:
    """``wallet:r12`` → 12."""
    rest = account.removeprefix(points.WALLET_PREFIX)
    return int(rest) if rest != account and rest.isdigit() else None


async def passbook(db: Database, scope: Scope) -> Rows:
    """Every posting of every resident's wallet in the days, with the balance after it."""
    R = t.Resident
    after = 0
    while True:
        async with db.connection() as conn:
            page = await ledger.postings(
                conn,
                scope.book,
                accounts_prefix=points.WALLET_PREFIX,
                since=scope.since,
                until=scope.until,
                after_id=after,
                limit=PAGE,
            )
            ids = sorted({i for p in page if (i := resident_of(p.account)) is not None})
            names = (
                {
                    int(r["id"]): r["name"]
                    for r in await q.fetch(conn, R.select(R.id, R.name).where(R.id.is_in(ids)))
                }
                if ids
                else {}
            )
        for p in page:
            who = resident_of(p.account)
            yield clean(
                [
                    p.id, stamp(p.at), who, names.get(who or 0, ""), word(JOURNAL_WORDS, p.kind),
                    word(PATH_WORDS, p.path), p.memo, p.amount, p.balance_after, p.journal_id,
                ]
            )  # fmt: skip
        if len(page) < PAGE:
            return
        after = page[-1].id


TABLES: dict[str, tuple[tuple[str, ...], Reader]] = {
    "awards": (AWARD_HEADERS, awards),
    "orders": (ORDER_HEADERS, orders),
    "residents": (RESIDENT_HEADERS, residents),
    "stock-movements": (MOVEMENT_HEADERS, stock_movements),
    "passbook": (PASSBOOK_HEADERS, passbook),
}
"""Each table's Chinese headers and the reader of its rows."""
