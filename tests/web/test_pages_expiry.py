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
from tests.web.test_pages_account import ADMIN
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
