"""The street administrator's pages through HTTP: landing on the street overview, communities,
grids, budget grants and new accounts; and that nobody else gets them, that every form needs its
CSRF token, and that a refused form changes nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

import ledger
from mall.db import Database
from mall.org import communities, points
from mall.people import residents, users
from tests.shop_fixtures import give
from tests.web.test_pages_account import (
    ADMIN,
    PASSWORD,
    community,
    csrf,
    is_full_page,
    post,
    sign_in,
    signed_in,
)

ADMIN_PAGES = (
    "/admin",
    "/admin/communities",
    "/admin/communities/xingfuli",
    "/admin/communities/xingfuli/grids",
    "/admin/communities/xingfuli/budget",
    "/admin/users/new",
)


async def admin(db: Database, client: TestClient[Litestar]) -> int:
    """A street administrator, signed in on the client; returns their user id."""
    made = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, made.id)
    return made.id


async def street(db: Database) -> dict[str, Any]:
    """xingfuli: 1,000 granted, 120 awarded to one resident, 20 of them set aside for a
    reservation. heping: 500 granted, nothing awarded. Returns xingfuli (see ``community``)."""
    made = await community(db, volunteer=True)
    await communities.create_community(db, ADMIN, "heping", "和平社区")
    await communities.grant_budget(db, ADMIN, "xingfuli", 1000, "第一批", idempotency_key="x1")
    await communities.grant_budget(db, ADMIN, "heping", 500, "", idempotency_key="h1")
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "王秀英", None, None)).id
    await give(db, "xingfuli", rid, 120)
    async with db.transaction() as conn:
        book = await conn.fetchval("SELECT book FROM mall_community WHERE slug = ?", "xingfuli")
        await ledger.place_hold(
            conn,
            book,
            points.wallet(rid),
            20,
            expires_at=datetime.now(UTC) + timedelta(days=3),
            idempotency_key="hold",
        )
    return made


def cells(page: str, row: str) -> list[str]:
    """The text of the cells of the table row that starts with ``row``."""
    found = re.search(rf"<tr>\s*<th scope=\"row\">(?:<a [^>]*>)?{row}.*?</tr>", page, re.S)
    assert found, row
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found.group(0), re.S)
    ]


async def table_counts(db: Database) -> tuple[int, ...]:
    async with db.connection() as conn:
        return tuple(
            [
                int(await conn.fetchval(f"SELECT COUNT(*) FROM {t}"))
                for t in (
                    "mall_community",
                    "mall_grid",
                    "mall_user",
                    "ledger_journal",
                    "mall_audit",
                )
            ]
        )


async def test_street_administrator_signs_in_to_the_street_overview(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    response = sign_in(client, "street-admin")
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    page = client.get("/admin")
    assert page.status_code == 200 and is_full_page(page.text)
    assert page.headers["cache-control"] == "no-store"
    assert "<h1>街道总览</h1>" in page.text
    # the last column: submissions past their due date (none here)
    assert cells(page.text, "幸福里社区") == ["880", "120", "120", "0"]
    assert cells(page.text, "和平社区") == ["500", "0", "0", "0"]
    assert cells(page.text, "全街道合计") == ["1,380", "120", "120", "0"]
    assert page.text.index("和平社区") < page.text.index("幸福里社区")  # by code: heping first
    for link in (
        'href="/admin/communities/xingfuli"',
        'href="/admin/communities/heping"',
        'href="/admin/users"',
        'href="/admin/anomalies"',
        'href="/admin/users/new"',
    ):
        assert link in page.text, link


async def test_the_overview_says_so_when_there_is_no_community(
    db: Database, client: TestClient[Litestar]
) -> None:
    await admin(db, client)
    page = client.get("/admin")
    assert page.status_code == 200 and "还没有社区" in page.text and "<table" not in page.text


async def test_staff_still_land_on_residents_and_admins_elsewhere_on_the_street_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    await admin(db, client)
    ask = client.get("/staff/residents")
    assert 'name="community"' in ask.text and 'href="/admin">在街道总览里查看社区代码' in ask.text
    residents_page = client.get("/staff/residents?community=xingfuli")
    assert 'href="/admin">街道总览</a>' in residents_page.text
    assert 'class="brand" href="/admin"' in residents_page.text
    await signed_in(
        db,
        client,
        (await users.create_user_unchecked(db, "staff-two", PASSWORD, "staff", "xingfuli")).id,
    )
    staff_page = client.get("/staff/residents")
    assert (
        "街道总览" not in staff_page.text
        and 'class="brand" href="/staff/residents"' in staff_page.text
    )


async def test_a_community_page_shows_its_figures_and_links_to_its_work(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    await communities.create_grid(db, ADMIN, "xingfuli", "g1", "一网格")
    await admin(db, client)
    page = client.get("/admin/communities/xingfuli")
    assert page.status_code == 200 and "<h1>幸福里社区</h1>" in page.text
    figures = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page.text))
    assert figures == {
        "预算余额": "880",
        "街道拨付": "1,000",
        "已发放": "120",
        "居民持有": "120",
    }
    for link in (
        "/admin/communities/xingfuli/budget",
        "/admin/communities/xingfuli/grids",
        "/admin/communities/xingfuli/policy",
        "/admin/users/new?community=xingfuli",
        "/staff/residents?community=xingfuli",
        "/staff/audit?community=xingfuli",
    ):
        assert f'href="{link}"' in page.text, link
    assert "网格（1 个）" in page.text
    assert client.get("/admin/communities/nowhere").status_code == 404


async def test_nobody_but_a_street_administrator_gets_the_admin_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    for path in ADMIN_PAGES:
        signed_out = client.get(path, follow_redirects=False)
        assert signed_out.status_code == 303, path
        assert signed_out.headers["location"].startswith("/sign-in?next=/admin"), path
    before = await table_counts(db)
    for who in (made["staff"], made["volunteer"]):
        await signed_in(db, client, who)
        for path in ADMIN_PAGES:
            assert client.get(path, follow_redirects=False).status_code == 403, path
        attempts: list[tuple[str, dict[str, str]]] = [
            ("/admin/communities", {"slug": "evil", "name": "坏社区"}),
            ("/admin/communities/xingfuli/grids", {"code": "g9", "name": "坏网格"}),
            ("/admin/communities/xingfuli/budget/grants", {"points": "999", "key": "k"}),
            (
                "/admin/users",
                {"username": "sneaky", "password": PASSWORD, "role": "admin", "community": ""},
            ),
        ]
        for path, data in attempts:
            assert post(client, path, **data).status_code == 403, path
    assert await table_counts(db) == before
    budget = await communities.budget(db, ADMIN, "xingfuli")
    assert (budget.balance, budget.granted) == (880, 1000)


@pytest.mark.parametrize(
    "path, data",
    [
        ("/admin/communities", {"slug": "evil", "name": "坏社区"}),
        ("/admin/communities/xingfuli/grids", {"code": "g9", "name": "坏网格"}),
        ("/admin/communities/xingfuli/budget/grants", {"points": "999", "key": "k"}),
        ("/admin/users", {"username": "sneaky", "password": PASSWORD, "role": "admin"}),
    ],
)
async def test_every_admin_form_needs_its_csrf_token(
    db: Database, client: TestClient[Litestar], path: str, data: dict[str, str]
) -> None:
    await community(db)
    await admin(db, client)
    csrf(client)
    before = await table_counts(db)
    response = client.post(path, data=data, follow_redirects=False)
    assert response.status_code == 403
    wrong = client.post(path, data={**data, "_csrf_token": "0" * 128}, follow_redirects=False)
    assert wrong.status_code == 403
    assert await table_counts(db) == before


async def test_creating_a_community_opens_its_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await admin(db, client)
    form = client.get("/admin/communities")
    assert form.status_code == 200 and 'action="/admin/communities"' in form.text
    assert 'name="_csrf_token"' in form.text
    response = post(client, "/admin/communities", slug="changqing", name="长青社区")
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/communities/changqing"
    listed = client.get("/admin/communities")
    assert 'href="/admin/communities/changqing">长青社区</a>' in listed.text
    budget = await communities.budget(db, ADMIN, "changqing")
    assert (budget.balance, budget.granted) == (0, 0)


@pytest.mark.parametrize(
    "slug, name, error",
    [
        ("Bad Code", "坏社区", "社区代码"),
        ("x", "坏社区", "社区代码"),
        ("xingfuli", "又一个幸福里", "已经有"),
    ],
)
async def test_a_refused_community_shows_the_form_again_and_creates_nothing(
    db: Database, client: TestClient[Litestar], slug: str, name: str, error: str
) -> None:
    await community(db)
    await admin(db, client)
    before = await table_counts(db)
    response = post(client, "/admin/communities", slug=slug, name=name)
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert error in response.text
    assert f'value="{name}"' in response.text and f'value="{slug}"' in response.text
    assert await table_counts(db) == before


async def test_grids_are_listed_and_added(db: Database, client: TestClient[Litestar]) -> None:
    await community(db)
    await communities.create_grid(db, ADMIN, "xingfuli", "g2", "二网格")
    await admin(db, client)
    response = post(client, "/admin/communities/xingfuli/grids", code="g1", name="一网格")
    assert response.status_code == 303
    assert re.fullmatch(r"/admin/communities/xingfuli/grids#g\d+", response.headers["location"])
    page = client.get("/admin/communities/xingfuli/grids")
    assert page.text.index("一网格") < page.text.index("二网格")
    assert "网格代码：g1" in page.text
    assert [g.code for g in await communities.list_grids(db, ADMIN, "xingfuli")] == ["g1", "g2"]
    before = await table_counts(db)
    again = post(client, "/admin/communities/xingfuli/grids", code="g1", name="重复")
    assert again.status_code == 400 and "已经有" in again.text
    bad = post(client, "/admin/communities/xingfuli/grids", code="g 1!", name="坏")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert await table_counts(db) == before
    assert client.get("/admin/communities/nowhere/grids").status_code == 404
    assert post(client, "/admin/communities/nowhere/grids", code="g1", name="x").status_code == 404


def grant_key(client: TestClient[Litestar], slug: str = "xingfuli") -> str:
    page = client.get(f"/admin/communities/{slug}/budget")
    found = re.search(r'name="key" value="([0-9a-f]{32})"', page.text)
    assert found
    return found.group(1)


async def test_a_grant_funds_the_budget_once_however_often_the_form_is_sent(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    await admin(db, client)
    key = grant_key(client)
    assert key != grant_key(client)  # every form its own key
    form = {"points": "2,500", "memo": "第二季度", "key": key}
    first = post(client, "/admin/communities/xingfuli/budget/grants", **form)
    assert first.status_code == 303
    assert first.headers["location"] == "/admin/communities/xingfuli/budget?granted=2500"
    again = post(client, "/admin/communities/xingfuli/budget/grants", **form)
    assert again.status_code == 303
    budget = await communities.budget(db, ADMIN, "xingfuli")
    assert (budget.balance, budget.granted, budget.issued) == (3380, 3500, 120)
    page = client.get(first.headers["location"])
    assert "已完成：已拨付 2,500 积分。" in page.text
    assert page.text.index("第二季度") < page.text.index("第一批")  # newest first
    async with db.connection() as conn:
        logged = await conn.fetchval(
            "SELECT COUNT(*) FROM mall_audit WHERE action = 'budget.grant' AND user_id IS NOT NULL"
        )
    assert logged == 1
    before = await table_counts(db)
    other = post(client, "/admin/communities/xingfuli/budget/grants", **{**form, "points": "9"})
    assert other.status_code == 400 and "用别的内容提交过" in other.text
    assert f'value="{key}"' not in other.text  # a fresh key for a fresh grant
    assert await table_counts(db) == before
    assert (await communities.budget(db, ADMIN, "xingfuli")).balance == 3380


@pytest.mark.parametrize("typed", ["", "abc", "0", "-5", "1.5", "10000001", "１００", "9" * 20])
async def test_a_grant_of_bad_points_is_refused_and_moves_nothing(
    db: Database, client: TestClient[Litestar], typed: str
) -> None:
    await street(db)
    await admin(db, client)
    key = grant_key(client)
    before = await table_counts(db)
    response = post(
        client, "/admin/communities/xingfuli/budget/grants", points=typed, memo="", key=key
    )
    assert response.status_code == 400 and "1 到 10,000,000" in response.text
    assert f'value="{key}"' in response.text  # nothing was posted: the same key may try again
    assert await table_counts(db) == before
    assert (await communities.budget(db, ADMIN, "xingfuli")).balance == 880


async def test_a_grant_without_the_forms_key_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    await admin(db, client)
    before = await table_counts(db)
    response = post(client, "/admin/communities/xingfuli/budget/grants", points="100")
    assert response.status_code == 400 and "请重新打开" in response.text
    assert await table_counts(db) == before
    missing = post(client, "/admin/communities/nowhere/budget/grants", points="1", key="k")
    assert missing.status_code == 404
    assert client.get("/admin/communities/nowhere/budget").status_code == 404


async def test_an_admin_creates_staff_volunteers_and_administrators(
    db: Database, client: TestClient[Litestar]
) -> None:
    await community(db)
    await admin(db, client)
    form = client.get("/admin/users/new?community=xingfuli")
    assert form.status_code == 200 and 'action="/admin/users"' in form.text
    assert '<option value="xingfuli" selected>' in form.text
    assert 'autocomplete="new-password"' in form.text
    made = post(
        client,
        "/admin/users",
        username="li.staff",
        password=PASSWORD,
        role="staff",
        community="xingfuli",
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/admin/users/new?created=li.staff"
    done = client.get(made.headers["location"])
    assert "已完成：账号 li.staff 已建立。" in done.text and 'href="/admin/users"' in done.text
    boss = post(
        client,
        "/admin/users",
        username="boss",
        password=PASSWORD,
        role="admin",
        community="xingfuli",
    )
    assert boss.status_code == 303
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT u.username, u.role, c.slug FROM mall_user u "
            "LEFT JOIN mall_community c ON c.id = u.community "
            "WHERE u.username IN ('li.staff', 'boss') ORDER BY u.username"
        )
    assert [(r["username"], r["role"], r["slug"]) for r in rows] == [
        ("boss", "admin", None),
        ("li.staff", "staff", "xingfuli"),
    ]
    assert sign_in(client, "li.staff").headers["location"] == "/staff/residents"
    assert sign_in(client, "boss").headers["location"] == "/admin"


@pytest.mark.parametrize(
    "fields, error",
    [
        ({"username": "x1", "role": "staff", "community": "xingfuli"}, "用户名"),
        ({"username": "noplace", "role": "staff", "community": ""}, "属于一个社区"),
        ({"username": "nowhere", "role": "volunteer", "community": "nowhere"}, "没有这个社区"),
        ({"username": "king", "role": "king", "community": "xingfuli"}, "角色"),
        ({"username": "xingfuli-staff", "role": "staff", "community": "xingfuli"}, "用户名已被"),
        (
            {"username": "shorty", "role": "staff", "community": "xingfuli", "password": "short"},
            "密码",
        ),
    ],
)
async def test_a_refused_account_shows_the_form_again_and_creates_nothing(
    db: Database, client: TestClient[Litestar], fields: dict[str, str], error: str
) -> None:
    await community(db)
    await admin(db, client)
    before = await table_counts(db)
    response = post(client, "/admin/users", **{"password": PASSWORD, **fields})
    assert response.status_code == 400
    assert 'role="alert"' in response.text and error in response.text
    assert PASSWORD not in response.text  # the password is never sent back
    assert await table_counts(db) == before
