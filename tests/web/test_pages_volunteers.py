"""The staff page of volunteers: add a volunteer's account with the outlets they serve at, change
those outlets, and who may do it."""

from __future__ import annotations

import re
from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.access import Volunteer
from mall.db import Database
from mall.people import auth, users
from mall.shop import outlets
from tests.web.test_pages_account import ADMIN, PASSWORD, community, csrf, signed_in


def send(client: TestClient[Litestar], path: str, **data: str | list[str]) -> Response:
    return client.post(path, data={**data, "_csrf_token": csrf(client)}, follow_redirects=False)


async def two_outlets(db: Database) -> tuple[dict[str, Any], int, int]:
    """xingfuli with its staff, a supermarket and a barber's; and heping with its staff."""
    made = await community(db)
    market = await outlets.create_outlet(db, ADMIN, "xingfuli", "幸福里积分超市", "supermarket")
    barber = await outlets.create_outlet(db, ADMIN, "xingfuli", "王师傅理发店", "partner")
    made["other_staff"] = (await community(db, "heping", "和平社区"))["staff"]
    return made, market.id, barber.id


def shown(page: str) -> list[str]:
    """Each volunteer on the page with where they serve, as staff read it."""
    return [
        re.sub(r"\s+", " ", f"{name} {where}").strip()
        for name, where in re.findall(
            r"<strong>([^<]+)</strong>.*?<p class=\"meta\">(.*?)</p>", page, re.S
        )
    ]


async def test_staff_add_a_volunteer_for_one_outlet_then_let_them_serve_everywhere(
    db: Database, client: TestClient[Litestar]
) -> None:
    made, market, barber = await two_outlets(db)
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/volunteers")
    assert page.status_code == 200 and "还没有志愿者。" in page.text
    assert "幸福里积分超市" in page.text and "王师傅理发店" in page.text
    added = send(
        client, "/staff/volunteers", username="barber-vol", password=PASSWORD, outlet=[str(barber)]
    )
    assert added.status_code == 303, added.text
    vol = next(v for v in await users.list_volunteers(db, ADMIN, "xingfuli"))
    assert added.headers["location"] == f"/staff/volunteers#v{vol.id}"
    assert shown(client.get("/staff/volunteers").text) == ["barber-vol 值班的兑换点： 王师傅理发店"]
    token = await auth.sign_in(db, "barber-vol", PASSWORD, ip="10.1.1.1", kind="web")
    me = await auth.principal_for(db, token)
    assert me is not None and me.role == "volunteer" and me.outlets == frozenset({barber})

    both = send(client, f"/staff/volunteers/{vol.id}/outlets", outlet=[str(market), str(barber)])
    assert both.status_code == 303
    assert shown(client.get("/staff/volunteers").text) == [
        "barber-vol 值班的兑换点： 幸福里积分超市、王师傅理发店"
    ]
    none = send(client, f"/staff/volunteers/{vol.id}/outlets")
    assert none.status_code == 303
    assert shown(client.get("/staff/volunteers").text) == [
        "barber-vol 可以在本社区所有兑换点服务。"
    ]
    me = await auth.principal_for(db, token)
    assert isinstance(me, Volunteer) and me.outlets is None


async def test_a_wrong_volunteer_form_is_shown_again_with_its_error_and_adds_nobody(
    db: Database, client: TestClient[Litestar]
) -> None:
    made, _, barber = await two_outlets(db)
    await signed_in(db, client, made["staff"])
    short = send(client, "/staff/volunteers", username="new-vol", password="short", outlet=[str(barber)])  # fmt: skip
    assert short.status_code == 400
    assert "至少" in short.text and 'value="new-vol"' in short.text
    assert re.search(rf'value="{barber}" checked', short.text)  # the ticks are kept too
    assert await users.list_volunteers(db, ADMIN, "xingfuli") == []


async def test_another_community_s_staff_and_volunteers_cannot_choose_outlets(
    db: Database, client: TestClient[Litestar]
) -> None:
    made, market, _ = await two_outlets(db)
    vol = await users.create_user(
        db, ADMIN, "market-vol", PASSWORD, "volunteer", "xingfuli", outlets=[market]
    )
    await signed_in(db, client, made["other_staff"])
    assert send(client, f"/staff/volunteers/{vol.id}/outlets").status_code == 404
    assert "market-vol" not in client.get("/staff/volunteers").text
    await signed_in(db, client, vol.id)
    assert client.get("/staff/volunteers").status_code == 403
    assert send(client, f"/staff/volunteers/{vol.id}/outlets").status_code == 403
    listed = await users.list_volunteers(db, ADMIN, "xingfuli")
    assert [v.outlets for v in listed] == [[market]]
