"""Demo data for earning in `mall demo`: rules for every path, past awards (several residents at
once) through the award service, spread over the last six weeks (``mall.demo.clock``), one award
waiting for approval, and submissions in every state.

``history`` runs first (from ``mall.demo``), so that the demo's redemptions have points to spend;
``load`` adds what is still open. Deterministic for a given ``rng``; far below the budget.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from mall.access import ResidentPrincipal, Staff
from mall.db import Database, must_exist
from mall.demo.clock import dated
from mall.earning import awards, reversals, rules, submissions

#: code, name, path, points, caps and threshold
RULES: list[tuple[str, str, str, int, dict[str, int]]] = [
    ("meeting", "议事会参会", "adding_to_good", 10, {}),
    ("proposal", "建言献策被采纳", "adding_to_good", 25, {}),
    ("volunteer", "响应招募令志愿服务", "adding_to_good", 15, {}),
    ("report", "上报矛盾纠纷", "settling_disputes", 20, {"monthly_cap": 100}),
    ("mediation", "调解纠纷成功", "settling_disputes", 40, {"approval_threshold": 100}),
    ("wish", "完成微心愿", "timely_help", 30, {}),
    ("household", "帮扶困难户", "timely_help", 20, {"approval_threshold": 150}),
]
#: how far back the history goes (more than a month: last month's statistics have something in
#: them whatever today's date), and how many awards it holds
HISTORY_DAYS, PAST_AWARDS = 42, 24
#: the past: rule, reason, how many residents at once (no caps, below every threshold)
PAST = [
    ("meeting", "参加三月居民议事会"),
    ("meeting", "参加加装电梯协商议事会"),
    ("proposal", "建言献策被采纳：增设晾衣架"),
    ("volunteer", "响应招募令：清理楼道"),
    ("volunteer", "响应招募令：垃圾分类督导"),
    ("wish", "完成微心愿：帮邻居修轮椅"),
    ("household", "为独居老人送餐"),
    ("household", "帮扶困难户打扫卫生"),
]


async def staff_of(db: Database, slug: str, n: int) -> Staff:
    """``{slug}-staff{n}`` as a principal."""
    async with db.connection() as conn:
        row = must_exist(
            await conn.fetchrow(
                "SELECT u.id, u.community FROM mall_user u WHERE u.username = ?", f"{slug}-staff{n}"
            )
        )
    return Staff(
        user_id=row["id"],
        username=f"{slug}-staff{n}",
        community_id=row["community"],
        community_slug=slug,
    )


def _resident(staff: Staff, resident_id: int) -> ResidentPrincipal:
    return ResidentPrincipal(
        resident_id=resident_id,
        community_id=staff.community_id,
        community_slug=staff.community_slug,
    )


async def history(db: Database, rng: random.Random, slug: str, resident_ids: list[int]) -> None:
    """The community's rules and a history of awards on all three paths."""
    first, second = await staff_of(db, slug, 1), await staff_of(db, slug, 2)
    start = datetime.now(UTC) - timedelta(days=HISTORY_DAYS)
    with dated(start):
        for code, name, path, points, limits in RULES:
            await rules.create_rule(
                db,
                first,
                slug,
                code,
                name,
                path,
                points,
                monthly_cap=limits.get("monthly_cap"),
                approval_threshold=limits.get("approval_threshold"),
            )
    for n in range(PAST_AWARDS):
        rule, memo = rng.choice(PAST)
        people = rng.sample(resident_ids, rng.randint(1, min(4, len(resident_ids))))
        # evenly from six weeks ago to two days ago, in the afternoon
        day = start + timedelta(days=n * (HISTORY_DAYS - 2) / PAST_AWARDS, hours=rng.randint(0, 5))
        with dated(day):
            await awards.create_award(
                db,
                first if n % 3 else second,
                slug,
                rule,
                people,
                memo,
                idempotency_key=f"demo:{slug}:award:{n}",
            )


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """An award waiting for approval, an award recorded twice by mistake and reversed by the other
    staff member, and submissions open, overdue, accepted, rejected and resolved with points."""
    first, second = await staff_of(db, slug, 1), await staff_of(db, slug, 2)
    await awards.create_award(
        db,
        first,
        slug,
        "mediation",
        rng.sample(resident_ids, 3),
        "协助调解3栋漏水纠纷，双方已和解",
        idempotency_key=f"demo:{slug}:pending",
    )
    twice = rng.sample(resident_ids, 2)
    for n in (1, 2):
        mistaken = await awards.create_award(
            db,
            second,
            slug,
            "meeting",
            twice,
            "参加十一月居民议事会",
            idempotency_key=f"demo:{slug}:twice:{n}",
        )
    await reversals.reverse_award(
        db,
        first,
        mistaken.id,
        "同一次议事会记了两次，撤销重复的一笔",
        idempotency_key=f"demo:{slug}:reverse",
    )
    a, b, c, d, e = rng.sample(resident_ids, 5)

    async def file(who: int, kind: str, title: str, body: str) -> int:
        return (await submissions.file(db, _resident(first, who), kind, title, body)).id

    await file(
        a, "proposal", "小区东门增设非机动车棚", "电动车停在楼道里不安全，建议在东门空地搭车棚。"
    )
    late = await file(b, "dispute", "楼上深夜噪音扰民", "502 室每晚十一点后还在装修，已沟通无果。")
    async with db.transaction() as conn:  # filed a week ago: past its three days
        week_ago = datetime.now(UTC) - timedelta(days=7)
        await conn.execute(
            "UPDATE mall_submission SET created_at = ?, due_at = ? WHERE id = ?",
            week_ago,
            week_ago + timedelta(days=submissions.DEFAULT_DAYS["dispute"]),
            late,
        )
    accepted = await file(c, "wish", "想学用智能手机挂号", "孩子在外地，想学会用手机在医院挂号。")
    await submissions.decide(db, second, accepted, "accept", reason="已联系志愿者，本周内上门")
    rejected = await file(d, "proposal", "小区里开设麻将室", "")
    await submissions.decide(
        db, first, rejected, "reject", reason="活动室场地有限，已转交居委会统筹考虑"
    )
    reported = await file(e, "dispute", "2栋楼道堆放杂物有火灾隐患", "一楼到三楼都堆了纸箱。")
    await submissions.decide(db, second, reported, "accept", reason="已安排网格员查看")
    await submissions.decide(
        db, first, reported, "resolve", reason="杂物已清理，感谢上报", rule="report"
    )
    wish = await file(a, "wish", "帮忙换个厨房灯泡", "灯泡坏了，自己够不着。")
    await submissions.decide(
        db, second, wish, "resolve", reason="邻居已帮忙换好", rule="wish", helper_id=c
    )
    return []
