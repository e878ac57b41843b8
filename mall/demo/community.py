"""Demo data for the community around the supermarket in `mall demo` (issue #20): buildings and
units on every record, households, a neighbour who collects for a resident without a smartphone
(代领), and a building head (楼栋长) whose proposal waits for staff."""

from __future__ import annotations

import random
import secrets

from mall.access import BuildingHead, Staff
from mall.db import Database
from mall.earning import proposals
from mall.people import households, lifecycle, proxies, users


async def load(
    db: Database, rng: random.Random, slug: str, staff: Staff, resident_ids: list[int]
) -> list[str]:
    """Residents three to a building (1号楼, 2号楼, ...), two units each; two households; the
    second resident collects for the third; the fourth is the head of building 2 and proposes
    points for the fifth."""
    for n, resident_id in enumerate(resident_ids):
        await lifecycle.update_resident(
            db, staff, resident_id, {"building": str(1 + n // 3), "unit": str(1 + n % 2)}
        )
    first = await households.create_household(db, staff, slug, "1号楼1单元101室")
    family = await households.create_household(db, staff, slug, "1号楼2单元201室")
    await households.assign(db, staff, resident_ids[0], first.id)
    for resident_id in resident_ids[1:3]:
        await households.assign(db, staff, resident_id, family.id)
    await proxies.grant(db, staff, resident_ids[2], resident_ids[1])
    username, password = f"{slug}-head1", secrets.token_urlsafe(9)
    made = await users.create_user(
        db,
        staff,
        username,
        password,
        "building_head",
        slug,
        resident_id=resident_ids[3],
        buildings=["2"],
    )
    head = BuildingHead(
        user_id=made.id,
        username=username,
        community_id=staff.community_id,
        community_slug=slug,
        resident_id=resident_ids[3],
        buildings=frozenset({"2"}),
    )
    rules = await proposals.head_rules(db, head)
    rule = next(r for r in rules if r.path == "timely_help")
    await proposals.propose(
        db,
        head,
        slug,
        rule.code,
        [resident_ids[4]],
        "帮楼里的独居老人取药、打扫楼道",
        idempotency_key=f"demo:{slug}:head",
    )
    return [f"{slug} 楼栋长 building head {username} / {password}   {{base}}/head"]
