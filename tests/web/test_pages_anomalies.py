"""The street administrator's anomaly page: a plain GET form of days, each line linking to the
award and the resident it is about; staff are refused."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from mall.db import Database
from mall.earning import awards, reversals
from mall.people import users
from tests.web.test_pages_account import PASSWORD, signed_in
from tests.web.test_pages_earning import SLUG, place, staff_principal


async def test_the_administrator_sees_repeats_and_reversals_with_links(
    db: Database, client: TestClient[Litestar]
) -> None:
    info = await place(db, client)
    staff, resident = staff_principal(info), info["residents"][0]
    made = [
        (
            await awards.create_award(
                db, staff, SLUG, "meeting", [resident], "议事", idempotency_key=f"k{i}"
            )
        ).id
        for i in range(3)
    ]
    await reversals.reverse_award(
        db, staff_principal(info, "staff2"), made[0], "重复发放", idempotency_key="r"
    )
    admin = await users.create_user_unchecked(db, "street-admin", PASSWORD, "admin", None)
    await signed_in(db, client, admin.id)
    page = client.get("/admin/anomalies")
    assert page.status_code == 200, page.text
    text = page.text
    assert (
        "异常提醒" in text
        and 'aria-current="page">异常提醒' in text
        and "重复发放" in text
        and 'type="date"' in text
    )
    assert f'href="/staff/residents/{resident}"' in text
    assert all(f'href="/staff/awards/{a}"' in text for a in made)
    assert client.get(f"/staff/awards/{made[0]}").status_code == 200  # the links open
    assert client.get(f"/staff/residents/{resident}").status_code == 200
    # every section says so when it is empty
    assert text.count("没有。") == 2
    wrong = client.get("/admin/anomalies?from=2026-13-01")
    assert wrong.status_code == 400 and "年-月-日" in wrong.text
    later = client.get("/admin/anomalies?from=2026-02-01&to=2026-01-01")
    assert later.status_code == 400


async def test_staff_are_refused_the_anomaly_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await place(db, client)
    assert client.get("/admin/anomalies").status_code == 403
