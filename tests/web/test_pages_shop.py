"""Shop and stock pages through HTTP: outlets, items with picture upload, donors, an outlet's
stock with receipts and donations, the stocktake, the low-stock list, and the residents' shop."""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from mall.access import audit
from mall.db import Database
from mall.org import communities
from mall.people import auth, residents
from mall.settings import get_settings
from mall.shop import items, outlets, stock
from tests.web.test_pages_account import ADMIN, community, csrf, is_full_page, post, signed_in
from web.app import create_app

HTMX = {"HX-Request": "true"}


@pytest.fixture
def client(
    db_url: str, tmp_path: Path, setting: Callable[[str, str], None]
) -> Iterator[TestClient[Litestar]]:
    """The app with its pictures in a folder of this test's own."""
    setting("MALL_VAR_DIR", str(tmp_path / "var"))
    with TestClient(create_app(db_url)) as c:
        yield c


def png(width: int = 1, height: int = 1) -> bytes:
    """A real, tiny PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


async def shelves(db: Database, client: TestClient[Litestar]) -> dict[str, Any]:
    """xingfuli's staff signed in; a supermarket and a barber; soap (20), oil (2, low at 3), a
    haircut service; and heping, another community with its own outlet."""
    made = await community(db)
    await signed_in(db, client, made["staff"])
    market = await outlets.create_outlet(db, ADMIN, "xingfuli", "幸福里积分超市", "supermarket")
    barber = await outlets.create_outlet(db, ADMIN, "xingfuli", "王师傅理发", "partner")
    await items.create_item(
        db,
        ADMIN,
        "xingfuli",
        sku="SOAP",
        name="香皂",
        kind="goods",
        price_points=5,
        unit="块",
        category="日用",
    )
    await items.create_item(
        db,
        ADMIN,
        "xingfuli",
        sku="OIL",
        name="食用油",
        kind="goods",
        price_points=60,
        unit="桶",
        category="粮油",
        monthly_limit=1,
        low_stock=3,
    )
    await items.create_item(
        db,
        ADMIN,
        "xingfuli",
        sku="CUT",
        name="理发",
        kind="service",
        price_points=20,
        category="服务",
    )
    for sku, n in (("SOAP", 20), ("OIL", 2)):
        await stock.change_stock(
            db,
            ADMIN,
            market.id,
            sku=sku,
            quantity=n,
            reason="receipt",
            idempotency_key=f"seed:{sku}",
        )
    await communities.create_community(db, ADMIN, "heping", "和平社区")
    other = await outlets.create_outlet(db, ADMIN, "heping", "和平超市", "supermarket")
    return {"market": market.id, "barber": barber.id, "other": other.id}


async def level(db: Database, outlet: int, sku: str) -> int:
    found = await stock.outlet_stock(db, ADMIN, outlet)
    return next(r.level for r in found.goods if r.sku == sku)


def form_key(page: str) -> str:
    found = re.search(r'name="key" value="([0-9a-f]{32})"', page)
    assert found, "the form carries an idempotency key"
    return found.group(1)


async def test_outlets_page_lists_outlets_and_what_runs_low(
    db: Database, client: TestClient[Litestar]
) -> None:
    await shelves(db, client)
    page = client.get("/staff/outlets")
    assert page.status_code == 200 and is_full_page(page.text)
    assert (
        "幸福里积分超市" in page.text and "王师傅理发" in page.text and "和平超市" not in page.text
    )
    low = page.text.split('id="low-title"')[1]
    assert "食用油" in low and "香皂" not in low


async def test_opening_an_outlet_redirects_to_its_stock_page(
    db: Database, client: TestClient[Litestar]
) -> None:
    await shelves(db, client)
    response = post(client, "/staff/outlets", name="二号兑换点", kind="supermarket")
    assert response.status_code == 303
    assert re.fullmatch(r"/staff/outlets/\d+", response.headers["location"])
    assert "二号兑换点" in client.get(response.headers["location"]).text
    refused = post(client, "/staff/outlets", name="", kind="supermarket")
    assert refused.status_code == 400 and 'role="alert"' in refused.text


async def test_stock_page_marks_low_items_and_leaves_services_out(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    page = client.get(f"/staff/outlets/{ids['market']}")
    assert page.status_code == 200
    rows = re.findall(r"<tr( class=\"low\")?>\s*<td>(\S+) ", page.text)
    assert ("", "香皂") in rows and (' class="low"', "食用油") in rows
    assert "理发" not in page.text.split('id="levels-title"')[1].split("</table>")[0]
    fragment = client.get(
        f"/staff/outlets/{ids['market']}", headers={**HTMX, "HX-Target": "levels"}
    )
    assert not is_full_page(fragment.text) and fragment.text.lstrip().startswith(
        '<section id="levels"'
    )
    assert 'hx-trigger="every 30s"' in page.text  # the levels refresh during a shift


async def test_receiving_goods_twice_with_the_same_form_posts_once(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    key = form_key(client.get(f"/staff/outlets/{ids['market']}").text)
    form = dict(reason="receipt", sku="SOAP", quantity="10", donor="", memo="", key=key)
    first = post(client, f"/staff/outlets/{ids['market']}/stock", **form)
    again = post(client, f"/staff/outlets/{ids['market']}/stock", **form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"/staff/outlets/{ids['market']}?done=SOAP"
    assert await level(db, ids["market"], "SOAP") == 30
    done = client.get(first.headers["location"]).text
    assert "30" in done.split('role="status"')[1].split("</div>")[0]


async def test_a_donation_records_the_donor_and_without_one_is_refused(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    page = client.get(f"/staff/outlets/{ids['market']}").text
    refused = post(
        client,
        f"/staff/outlets/{ids['market']}/stock",
        reason="donation",
        sku="OIL",
        quantity="5",
        donor="",
        memo="",
        key=form_key(page),
    )
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert await level(db, ids["market"], "OIL") == 2
    done = post(
        client,
        f"/staff/outlets/{ids['market']}/stock",
        reason="donation",
        sku="OIL",
        quantity="5",
        donor="区税务局党支部",
        memo="",
        key=form_key(page),
    )
    assert done.status_code == 303 and await level(db, ids["market"], "OIL") == 7
    history = client.get(f"/staff/outlets/{ids['market']}").text
    assert "区税务局党支部" in history
    assert "区税务局党支部" in client.get("/staff/donors").text


@pytest.mark.parametrize(
    ("quantity", "reason", "memo"),
    [
        ("abc", "receipt", ""),
        ("-3", "receipt", ""),
        ("-1", "adjustment", ""),
        ("-99", "adjustment", "丢失"),
    ],
)
async def test_a_wrong_stock_form_says_what_is_wrong_and_moves_nothing(
    db: Database, client: TestClient[Litestar], quantity: str, reason: str, memo: str
) -> None:
    ids = await shelves(db, client)
    key = form_key(client.get(f"/staff/outlets/{ids['market']}").text)
    response = post(
        client,
        f"/staff/outlets/{ids['market']}/stock",
        reason=reason,
        sku="SOAP",
        quantity=quantity,
        donor="",
        memo=memo,
        key=key,
    )
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert form_key(response.text) == key and f'value="{quantity}"' in response.text
    assert await level(db, ids["market"], "SOAP") == 20


async def test_stocktake_posts_differences_in_one_go_and_shows_them(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    page = client.get(f"/staff/outlets/{ids['market']}/stocktake")
    assert (
        page.status_code == 200
        and 'name="count:SOAP"' in page.text
        and "count:CUT" not in page.text
    )
    key = form_key(page.text)
    form = {"count:SOAP": "17", "count:OIL": "2", "memo": "月底盘点", "key": key}
    done = post(client, f"/staff/outlets/{ids['market']}/stocktake", **form)
    assert done.status_code == 303
    assert done.headers["location"] == f"/staff/outlets/{ids['market']}/stocktake/{key}"
    again = post(client, f"/staff/outlets/{ids['market']}/stocktake", **form)
    assert again.status_code == 303
    assert await level(db, ids["market"], "SOAP") == 17
    assert await level(db, ids["market"], "OIL") == 2
    shown = client.get(done.headers["location"]).text
    table = shown.split("<tbody>")[1].split("</tbody>")[0]
    assert "香皂" in table and "食用油" not in table
    assert re.search(
        r">20</td>\s*<td class=\"num\"><strong>17</strong></td>\s*<td class=\"num\">−3<", table
    )


async def test_a_stocktake_with_a_bad_count_changes_nothing(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    key = form_key(client.get(f"/staff/outlets/{ids['market']}/stocktake").text)
    response = post(
        client,
        f"/staff/outlets/{ids['market']}/stocktake",
        **{"count:SOAP": "15", "count:OIL": "-1", "memo": "", "key": key},
    )
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert 'value="15"' in response.text
    assert await level(db, ids["market"], "SOAP") == 20
    empty = post(client, f"/staff/outlets/{ids['market']}/stocktake", memo="", key=key)
    assert empty.status_code == 400


async def test_another_communitys_outlet_is_not_found(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    assert client.get(f"/staff/outlets/{ids['other']}").status_code == 404
    assert client.get(f"/staff/outlets/{ids['other']}/stocktake").status_code == 404
    key = "0" * 32
    refused = post(
        client,
        f"/staff/outlets/{ids['other']}/stock",
        reason="receipt",
        sku="SOAP",
        quantity="1",
        donor="",
        memo="",
        key=key,
    )
    assert refused.status_code == 404


async def test_items_are_listed_by_category_and_a_new_item_is_added(
    db: Database, client: TestClient[Litestar]
) -> None:
    await shelves(db, client)
    page = client.get("/staff/items").text
    assert page.index("日用") < page.index("香皂") and "60 分" in page
    made = post(
        client,
        "/staff/items",
        sku="TOWEL",
        name="毛巾",
        kind="goods",
        price_points="8",
        unit="条",
        category="日用",
        monthly_limit="",
        low_stock="2",
        donor="",
    )
    assert made.status_code == 303 and re.fullmatch(
        r"/staff/items/\d+\?saved=1", made.headers["location"]
    )
    dup = post(
        client,
        "/staff/items",
        sku="TOWEL",
        name="毛巾",
        kind="goods",
        price_points="8",
        unit="",
        category="",
        monthly_limit="",
        low_stock="0",
        donor="",
    )
    assert dup.status_code == 400 and 'role="alert"' in dup.text
    bad = post(
        client,
        "/staff/items",
        sku="MOP",
        name="拖把",
        kind="goods",
        price_points="zero",
        unit="",
        category="",
        monthly_limit="",
        low_stock="0",
        donor="",
    )
    assert bad.status_code == 400 and 'value="拖把"' in bad.text
    assert "拖把" not in client.get("/staff/items").text


async def test_editing_an_item_changes_price_and_takes_it_off_the_shelf(
    db: Database, client: TestClient[Litestar]
) -> None:
    await shelves(db, client)
    item = await items.list_items(db, ADMIN, "xingfuli")
    soap = next(i for i in item if i.sku == "SOAP")
    saved = post(
        client,
        f"/staff/items/{soap.id}",
        name="香皂",
        price_points="6",
        unit="块",
        category="日用",
        monthly_limit="2",
        low_stock="5",
    )
    assert saved.status_code == 303
    changed = await items.get_item(db, ADMIN, soap.id)
    assert (changed.price_points, changed.monthly_limit, changed.active) == (6, 2, False)
    async with db.connection() as conn:
        logged = await audit.entries(conn, soap.community_id)
    update = next(e for e in logged if e.action == "item.update")
    assert update.actor == "xingfuli-staff" and update.target == "item:SOAP"
    assert update.detail == {"price_points": 6, "monthly_limit": 2, "low_stock": 5, "active": False}


async def upload(
    client: TestClient[Litestar], item_id: int, name: str, data: bytes, kind: str
) -> Response:
    return client.post(
        f"/staff/items/{item_id}/picture",
        data={"_csrf_token": csrf(client)},
        files={"picture": (name, data, kind)},
        follow_redirects=False,
    )


async def test_a_real_png_is_stored_under_a_random_name_and_served_for_long(
    db: Database, client: TestClient[Litestar]
) -> None:
    await shelves(db, client)
    soap = await items.get_item(db, ADMIN, 1)
    picture = png(4, 4)
    response = await upload(client, soap.id, "../../etc/passwd.png", picture, "image/png")
    assert response.status_code == 303
    stored = (await items.get_item(db, ADMIN, soap.id)).picture
    assert stored is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}\.png", stored)
    assert (get_settings().var_dir / "pictures" / stored).read_bytes() == picture
    served = client.get(f"/pictures/{stored}")
    assert served.status_code == 200 and served.content == picture
    assert served.headers["content-type"] == "image/png"
    assert "max-age=31536000" in served.headers["cache-control"]
    assert served.headers["x-content-type-options"] == "nosniff"
    assert f'src="/pictures/{stored}"' in client.get(f"/staff/items/{soap.id}").text
    assert client.get("/pictures/..%2Fsecret_key").status_code == 404
    assert client.get("/pictures/nothere1234567890abc.png").status_code == 404


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("photo.png", b"this is plain text, not a picture", "image/png"),
        ("big.png", png() + b"\x00" * (1024 * 1024), "image/png"),
        ("page.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg"),
        ("empty.png", b"", "image/png"),
    ],
)
async def test_a_file_that_is_not_a_small_picture_is_refused_and_nothing_is_stored(
    db: Database, client: TestClient[Litestar], name: str, data: bytes, kind: str
) -> None:
    await shelves(db, client)
    response = await upload(client, 1, name, data, kind)
    assert response.status_code == 400 and 'role="alert"' in response.text
    assert (await items.get_item(db, ADMIN, 1)).picture is None
    folder = get_settings().var_dir / "pictures"
    assert not folder.exists() or list(folder.iterdir()) == []


async def test_volunteers_cannot_open_staff_stock_pages(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    made = await community(db, "anle", "安乐社区", volunteer=True)
    await signed_in(db, client, made["volunteer"])
    assert client.get("/staff/outlets").status_code == 403
    assert client.get(f"/staff/outlets/{ids['market']}").status_code == 403


async def test_residents_browse_by_category_with_what_is_on_each_shelf(
    db: Database, client: TestClient[Litestar]
) -> None:
    ids = await shelves(db, client)
    rid = (await residents.create_resident(db, ADMIN, "xingfuli", "王秀英", None, None)).id
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "resident", resident_id=rid, ttl=auth.RESIDENT_SESSION
        )
    client.cookies.set("mall_session", token)
    page = client.get("/me/shop")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "积分商城" in page.text and 'aria-current="page"' in page.text
    assert page.text.index("日用") < page.text.index("香皂")
    assert "有货" in page.text and "只剩 2 件" in page.text
    assert f"/me/reservations/new?outlet={ids['market']}&amp;sku=SOAP" in page.text
    assert "理发" in page.text and "和平超市" not in page.text
    await stock.change_stock(
        db,
        ADMIN,
        ids["market"],
        sku="OIL",
        quantity=-2,
        reason="adjustment",
        memo="过期",
        idempotency_key="gone",
    )
    assert "暂时缺货" in client.get("/me/shop").text


async def test_a_phone_photo_over_the_upload_limit_gets_the_same_clear_refusal(
    db: Database, client: TestClient[Litestar]
) -> None:
    """A camera's 6 MB photo is refused before it is read, in the user's language, like any
    other picture that is too large; nothing is stored."""
    await shelves(db, client)
    response = await upload(
        client, 1, "IMG_0001.jpg", b"\xff\xd8\xff" + b"\x00" * 6_000_000, "image/jpeg"
    )
    assert response.status_code == 413
    assert "发送的内容太大了" in response.text and "1 MB" in response.text
    assert (await items.get_item(db, ADMIN, 1)).picture is None
