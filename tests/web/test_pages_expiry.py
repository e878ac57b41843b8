"""Points expiry as residents see it: what expires within a month, in large type, on the home
page and in the passbook; the expiry journal in the passbook as 积分过期; the printed passbook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient

from mall import days
from mall.db import Database
from mall.earning import expiring
from mall.earning.expiry import add_months
from mall.org import policy
from mall.people import users
from tests.web.test_pages_account import ADMIN, PASSWORD, community, signed_in
from tests.web.test_pages_resident import phone_of


async def expire_after_a_month(db: Database) -> str:
    """xingfuli's points now expire a month after they were earned; the day what was earned
    before (counted as earned today) will expire, as the pages write it."""
    await policy.set_policy(db, ADMIN, "xingfuli", expiry="months", expiry_months=1)
    return add_months(days.today(), 1).isoformat()


async def test_home_and_passbook_show_what_expires_within_a_month_in_large_type(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    assert "积分将于" not in client.get("/me").text
    on = await expire_after_a_month(db)
    line = f'<li class="expiring-line">28 积分将于 {on} 到期</li>'  # 33 earned, 5 set aside
    assert line in client.get("/me").text
    assert line in client.get("/me/passbook").text
    await policy.set_policy(db, ADMIN, "xingfuli", expiry_months=2)
    assert "积分将于" not in client.get("/me").text


async def test_expired_points_show_in_the_passbook_as_expired(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    await expire_after_a_month(db)
    later = datetime.now(UTC) + timedelta(days=40)
    assert await expiring.expire_points(db, later) == 1
    passbook = client.get("/me/passbook").text
    assert "积分过期" in passbook and "出 −28" in passbook
    assert "积分将于" not in client.get("/me").text


async def test_a_resident_prints_their_own_passbook_on_a5_without_navigation(
    db: Database, client: TestClient[Litestar]
) -> None:
    await phone_of(db, client)
    on = await expire_after_a_month(db)
    assert 'href="/me/passbook/print"' in client.get("/me/passbook").text
    page = client.get("/me/passbook/print")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "积分存折" in text and "王秀英" in text and "幸福里社区" in text
    assert "33 分" in text and "清理楼道 2" in text and "锦上添花" in text
    assert f"28 积分将于 {on} 到期" in text
    assert '<link rel="stylesheet" href="/static/css/passbook-print.css">' in text
    css = client.get("/static/css/passbook-print.css").text
    assert "@page { size: A5" in css and ".bar, nav, .no-print { display: none" in css


async def test_staff_print_a_residents_passbook_of_their_own_community_only(
    db: Database, client: TestClient[Litestar]
) -> None:
    rid = await phone_of(db, client)
    client.cookies.clear()
    path = f"/staff/residents/{rid}/passbook/print"
    signed_out = client.get(path, follow_redirects=False)
    assert signed_out.status_code == 303 and "/sign-in" in signed_out.headers["location"]
    staff = await users.create_user_unchecked(db, "x-staff", PASSWORD, "staff", "xingfuli")
    vol = await users.create_user_unchecked(db, "x-vol", PASSWORD, "volunteer", "xingfuli")
    other = await community(db, "heping", "和平社区")
    await signed_in(db, client, other["staff"])
    assert client.get(path).status_code == 404
    await signed_in(db, client, vol.id)
    assert client.get(path).status_code == 403
    await signed_in(db, client, staff.id)
    assert path in client.get(f"/staff/residents/{rid}").text
    page = client.get(path)
    assert page.status_code == 200 and "王秀英" in page.text and "积分存折" in page.text
    assert client.get(f"/staff/residents/{rid + 999}/passbook/print").status_code == 404
