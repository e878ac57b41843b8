"""A building head's own proposals (/head/proposals, ``GET /me/proposals``): newest first, with
the residents (masked), the rule and its points, and what became of each in plain words (待审批,
已通过, 未通过 with the staff member's reason); another head's proposals are never shown, and
nobody but a building head opens the page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from litestar import Litestar
from litestar.testing import TestClient

from mall.access.principal import BuildingHead
from mall.db import Database
from mall.earning import awards, proposals, rules
from mall.org import communities
from mall.people import auth, residents, users
from tests import support
from tests.shop_fixtures import ADMIN

PASSWORD = "a long enough password"


@dataclass(frozen=True)
class Town:
    slug: str
    head: BuildingHead
    """Serves building 3: proposed three awards (approved, rejected, waiting, oldest first)."""
    other_head: BuildingHead
    """Serves building 5: proposed one award of their own."""
    staff_id: int
    awards: dict[str, int]


async def head_town(db: Database, slug: str) -> Town:
    """A community of its own with two building heads and a staff member, and their proposals:
    the head's for 吴阿姨 (approved), for 冯大伯 (rejected: 重复申报), for both (waiting), and the
    other head's for 郑大爷 (waiting)."""
    community = await communities.create_community(db, ADMIN, slug, "提议社区")
    await communities.grant_budget(db, ADMIN, slug, 1000, "", idempotency_key=f"{slug}:budget")
    await rules.create_rule(db, ADMIN, slug, "helped", "帮邻居办事", "timely_help", 5)

    async def resident(name: str, building: str) -> int:
        made = await residents.create_resident(
            db, ADMIN, slug, name, None, None, building=building, unit="1"
        )
        return made.id

    people = {
        "own": await resident("周楼长", "3"),
        "wu": await resident("吴阿姨", "3"),
        "feng": await resident("冯大伯", "3"),
        "other_own": await resident("钱楼长", "5"),
        "zheng": await resident("郑大爷", "5"),
    }

    async def head(username: str, own: int, building: str) -> BuildingHead:
        made = await users.create_user(
            db,
            ADMIN,
            username,
            PASSWORD,
            "building_head",
            slug,
            resident_id=own,
            buildings=[building],
        )
        return BuildingHead(
            user_id=made.id,
            username=username,
            community_id=community.id,
            community_slug=slug,
            resident_id=own,
            buildings=frozenset([building]),
        )

    zhou = await head(f"{slug}-zhou", people["own"], "3")
    qian = await head(f"{slug}-qian", people["other_own"], "5")
    staff_id = (await users.create_user(db, ADMIN, f"{slug}-staff", PASSWORD, "staff", slug)).id
    staff = support.staff(staff_id, community.id, slug)

    async def propose(who: BuildingHead, ids: list[int], memo: str) -> int:
        made = await proposals.propose(
            db, who, slug, "helped", ids, memo, idempotency_key=f"{slug}:{memo}"
        )
        return made.id

    made = {
        "approved": await propose(zhou, [people["wu"]], "帮独居老人取药"),
        "rejected": await propose(zhou, [people["feng"]], "帮忙搬家"),
        "waiting": await propose(zhou, [people["wu"], people["feng"]], "楼道大扫除"),
        "other": await propose(qian, [people["zheng"]], "别人的提议"),
    }
    await awards.approve(db, staff, made["approved"])
    await awards.reject(db, staff, made["rejected"], "重复申报")
    return Town(slug=slug, head=zhou, other_head=qian, staff_id=staff_id, awards=made)


async def _sign_in(db: Database, client: TestClient[Litestar], user_id: int) -> None:
    async with db.transaction() as conn:
        token = await auth.create_session(conn, "web", user_id=user_id, ttl=auth.STAFF_SESSION)
    client.cookies.set("mall_session", token)


def _cards(page: str) -> list[tuple[str, str]]:
    """(award id, the card's text without tags) of each proposal shown, top to bottom."""
    found = re.findall(r'<li class="message" data-proposal="(\d+)"[^>]*>(.*?)</li>', page, re.S)
    return [(n, " ".join(re.sub(r"<[^>]+>", " ", body).split())) for n, body in found]


async def test_a_head_sees_what_became_of_their_proposals(
    db: Database, client: TestClient[Litestar]
) -> None:
    town = await head_town(db, "prop-town")
    await _sign_in(db, client, town.head.user_id)
    home = client.get("/head")
    assert home.status_code == 200 and 'href="/head/proposals"' in home.text
    page = client.get("/head/proposals")
    assert page.status_code == 200
    cards = _cards(page.text)
    ids = [str(town.awards[k]) for k in ("waiting", "rejected", "approved")]
    assert [n for n, _ in cards] == ids  # newest first, and only their own
    waiting, rejected, approved = (text for _, text in cards)
    assert waiting.startswith("待审批") and "吴*姨、冯*伯" in waiting
    assert "帮邻居办事" in waiting and "每人 5 积分" in waiting and "共 10 积分" in waiting
    assert rejected.startswith("未通过") and "工作人员说明的原因：重复申报" in rejected
    assert approved.startswith("已通过") and "吴*姨" in approved and "原因" not in approved
    assert "郑" not in page.text and "别人的提议" not in page.text  # the other head's
    assert "吴阿姨" not in page.text  # names masked


async def test_the_other_head_sees_only_their_own(
    db: Database, client: TestClient[Litestar]
) -> None:
    town = await head_town(db, "prop-town2")
    await _sign_in(db, client, town.other_head.user_id)
    cards = _cards(client.get("/head/proposals").text)
    assert [n for n, _ in cards] == [str(town.awards["other"])]
    assert cards[0][1].startswith("待审批") and "郑*爷" in cards[0][1]


async def test_only_a_building_head_opens_the_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    town = await head_town(db, "prop-town3")
    await _sign_in(db, client, town.staff_id)
    refused = client.get("/head/proposals", follow_redirects=False)
    assert refused.status_code in (303, 403)
    assert "帮独居老人取药" not in refused.text
    client.cookies.clear()
    anonymous = client.get("/head/proposals", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)


async def test_the_api_lists_a_head_s_own_proposals(
    db: Database, client: TestClient[Litestar]
) -> None:
    town = await head_town(db, "prop-town4")
    async with db.transaction() as conn:
        head = await auth.create_session(conn, "api", user_id=town.head.user_id, ttl=auth.API_TOKEN)
        staff = await auth.create_session(conn, "api", user_id=town.staff_id, ttl=auth.API_TOKEN)
    got = client.get("/api/v1/me/proposals", headers={"Authorization": f"Bearer {head}"})
    assert got.status_code == 200, got.text
    listed = got.json()["proposals"]
    assert [x["id"] for x in listed] == [
        town.awards[k] for k in ("waiting", "rejected", "approved")
    ]
    assert [x["status"] for x in listed] == ["pending_approval", "rejected", "posted"]
    assert listed[1]["rejection_reason"] == "重复申报" and listed[0]["total"] == 10
    assert [r["display_name"] for r in listed[0]["residents"]] == ["吴*姨", "冯*伯"]
    assert listed[0]["rule_name"] == "帮邻居办事" and listed[0]["points_each"] == 5
    one = client.get("/api/v1/me/proposals?limit=1", headers={"Authorization": f"Bearer {head}"})
    assert [x["id"] for x in one.json()["proposals"]] == [town.awards["waiting"]]
    refused = client.get("/api/v1/me/proposals", headers={"Authorization": f"Bearer {staff}"})
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
