"""The accounts pages: staff switch their volunteers off and on (behind a tick), the street
administrator sees every account under /admin/users and links a user's own resident record, and
the resident's page shows a printed card waiting for a second staff member's approval."""

from __future__ import annotations

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.db import Database
from mall.org import communities, points
from mall.people import auth, credentials, residents, users
from tests.web.test_pages_account import ADMIN, PASSWORD, community, csrf, signed_in


def send(client: TestClient[Litestar], path: str, **data: str) -> Response:
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


async def volunteer_session(db: Database, user_id: int) -> str:
    async with db.transaction() as conn:
        return await auth.create_session(
            conn, "web", user_id=user_id, ttl=auth.STAFF_SESSION, ip="10.0.0.7"
        )


async def test_staff_switch_a_volunteer_off_and_on_and_the_volunteer_is_signed_out_at_once(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db, volunteer=True)
    vol = made["volunteer"]
    token = await volunteer_session(db, vol)
    assert await auth.principal_for(db, token) is not None  # trusted by this process now
    await signed_in(db, client, made["staff"])
    listed = client.get("/staff/users")
    assert listed.status_code == 200 and "xingfuli-vol" in listed.text
    assert "xingfuli-staff" not in listed.text  # staff see their volunteers
    page = client.get(f"/staff/users/{vol}")
    assert "10.0.0.7" in page.text and "停用账号" in page.text

    untick = send(client, f"/staff/users/{vol}/deactivate")
    assert untick.status_code == 400 and "请勾选" in untick.text
    assert await auth.principal_for(db, token) is not None
    done = send(client, f"/staff/users/{vol}/deactivate", confirm="yes")
    assert done.status_code == 303 and done.headers["location"] == f"/staff/users/{vol}"
    assert await auth.principal_for(db, token) is None
    page = client.get(f"/staff/users/{vol}")
    assert "已停用" in page.text and "重新启用" in page.text
    assert "账号已停用" in client.get("/staff/audit").text

    back = send(client, f"/staff/users/{vol}/reactivate", confirm="yes")
    assert back.status_code == 303
    assert await auth.principal_for(db, token) is None  # its old session stays ended
    assert "账号已重新启用" in client.get("/staff/audit").text


async def test_staff_cannot_switch_staff_or_another_community_s_volunteer(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    other = await community(db, "heping", "和平社区", volunteer=True)
    colleague = await users.create_user_unchecked(db, "li-staff", PASSWORD, "staff", "xingfuli")
    await signed_in(db, client, made["staff"])
    refused = send(client, f"/staff/users/{colleague.id}/deactivate", confirm="yes")
    assert refused.status_code == 403 and "志愿者" in refused.text
    assert "停用账号" not in client.get(f"/staff/users/{colleague.id}").text
    assert (
        send(client, f"/staff/users/{other['volunteer']}/deactivate", confirm="yes").status_code
        == 404
    )
    assert client.get(f"/staff/users/{other['volunteer']}").status_code == 404


async def test_the_street_administrator_sees_every_account_and_links_an_own_record(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    await community(db, "heping", "和平社区")
    admin = await users.create_user_unchecked(db, "street", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    assert client.get("/staff/users", follow_redirects=False).headers["location"] == "/admin/users"
    everyone = client.get("/admin/users")
    assert "xingfuli-staff" in everyone.text and "heping-staff" in everyone.text
    assert 'href="/admin/users" aria-current="page"' in everyone.text  # in the admin nav
    one = client.get("/admin/users?community=heping")
    assert "heping-staff" in one.text and "xingfuli-staff" not in one.text

    mine = await residents.create_resident(db, ADMIN, "xingfuli", "刘芳", None, None)
    elsewhere = await residents.create_resident(db, ADMIN, "heping", "赵六", None, None)
    staff = made["staff"]
    wrong = send(client, f"/admin/users/{staff}/own-record", resident=str(elsewhere.id))
    assert wrong.status_code == 400 and "所在社区" in wrong.text
    assert send(client, f"/admin/users/{staff}/own-record", resident="abc").status_code == 400
    done = send(client, f"/admin/users/{staff}/own-record", resident=str(mine.id))
    assert done.status_code == 303
    page = client.get(f"/admin/users/{staff}")
    assert f'href="/staff/residents/{mine.id}">刘芳' in page.text
    cleared = send(client, f"/admin/users/{staff}/own-record", resident="")
    assert cleared.status_code == 303 and "刘芳" not in client.get(f"/admin/users/{staff}").text
    own = send(client, f"/staff/users/{admin.id}/deactivate", confirm="yes")
    assert own.status_code == 403


async def test_a_card_waiting_for_approval_is_shown_and_another_staff_member_approves_it(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await community(db)
    issuer = await users.create_user_unchecked(db, "li-staff", PASSWORD, "staff", "xingfuli")
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "刘芳", None, None)).id
    await communities.grant_budget(db, ADMIN, "xingfuli", 100, "预算", idempotency_key="b")
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = 'xingfuli'")
        await ledger.post_journal(
            conn, book, "award", [(points.BUDGET, -20), (points.wallet(rid), 20)],
            idempotency_key="give", path="timely_help", memo="帮扶",
        )  # fmt: skip
    me = await auth.principal_for(db, await volunteer_session(db, issuer.id))
    assert me is not None
    assert (await credentials.issue_card(db, me, rid, "2580")).status == "pending_approval"

    await signed_in(db, client, issuer.id)
    own = client.get(f"/staff/residents/{rid}")
    assert "积分卡待审核" in own.text and "须由另一位工作人员审核" in own.text
    assert f"/staff/residents/{rid}/card/approve" not in own.text  # not for the issuer
    refused = send(client, f"/staff/residents/{rid}/card/approve")
    assert refused.status_code == 403

    client.cookies.clear()
    await signed_in(db, client, made["staff"])
    page = client.get(f"/staff/residents/{rid}")
    assert (
        f'action="/staff/residents/{rid}/card/approve"' in page.text and 'class="big"' in page.text
    )
    done = send(client, f"/staff/residents/{rid}/card/approve")
    assert done.status_code == 303
    page = client.get(f"/staff/residents/{rid}")
    assert (
        "积分卡待审核" not in page.text
        and "li-staff" in page.text
        and "xingfuli-staff" in page.text
    )
    assert "积分卡经第二位工作人员审核通过" in client.get("/staff/audit").text
