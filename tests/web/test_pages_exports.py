"""Exports and the partners' settlement as staff pages, without JavaScript: the form with its
defaults, the download it gives (the same file as the API), bad days named on the form, the
dashboard's links, and nobody else's community."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from litestar.testing import TestClient

from mall import days
from mall.db import Database
from mall.shop import outlets
from tests.web.test_pages_account import ADMIN, community, signed_in
from tests.web.test_pages_earning import SLUG
from tests.web.test_pages_notice import noticed


async def test_the_dashboard_links_to_a_form_defaulting_to_this_month(
    db: Database, client: TestClient[Litestar]
) -> None:
    await noticed(db, client)
    dashboard = client.get("/staff/earning").text
    assert 'href="/staff/exports"' in dashboard and 'href="/staff/partners"' in dashboard
    page = client.get("/staff/exports")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    first = days.today().replace(day=1).isoformat()
    assert f'value="{first}"' in page.text and f'value="{days.today().isoformat()}"' in page.text
    for table in ("awards", "orders", "residents", "stock-movements", "passbook"):
        assert f'value="{table}"' in page.text
    assert 'hx-boost="false"' in page.text and 'action="/staff/exports/download"' in page.text


async def test_the_form_downloads_the_table_as_the_api_would(
    db: Database, client: TestClient[Litestar]
) -> None:
    await noticed(db, client)
    today = days.today().isoformat()
    got = client.get(
        "/staff/exports/download",
        params={"table": "awards", "format": "csv", "from": today, "to": today},
    )
    assert got.status_code == 200, got.text
    assert got.headers["content-disposition"] == (
        f'attachment; filename="awards-{SLUG}-{today}-{today}.csv"'
    )
    rows = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "奖励单号", "时间"]
    assert sorted(r[4] for r in rows[1:]) == ["李建国", "王秀英"]
    xlsx = client.get("/staff/exports/download", params={"table": "passbook", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


async def test_bad_days_are_named_on_the_form_and_nothing_downloads(
    db: Database, client: TestClient[Litestar]
) -> None:
    await noticed(db, client)
    got = client.get(
        "/staff/exports/download",
        params={"table": "orders", "format": "xlsx", "from": "2026-12-05", "to": "2026-12-01"},
    )
    assert got.status_code == 400 and got.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in got.text and 'value="2026-12-05"' in got.text
    assert (
        client.get(
            "/staff/exports/download", params={"table": "nothing", "format": "csv"}
        ).status_code
        == 404
    )


async def test_staff_of_another_community_download_only_their_own(
    db: Database, client: TestClient[Litestar]
) -> None:
    await noticed(db, client)
    other = await community(db, "heping", "和平社区")
    await signed_in(db, client, other["staff"])
    got = client.get(
        "/staff/exports/download",
        params={"table": "awards", "format": "csv", "community": SLUG},
    )
    assert got.status_code == 200 and "heping" in got.headers["content-disposition"]
    assert "王秀英" not in got.content.decode("utf-8-sig")


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient[Litestar]) -> None:
    for path in ("/staff/exports", "/staff/exports/download?table=awards", "/staff/partners"):
        sent = client.get(path, follow_redirects=False)
        assert sent.status_code in (302, 303) and "sign-in" in sent.headers["location"], path


async def test_the_partners_page_lists_each_partner_and_refuses_a_bad_month(
    db: Database, client: TestClient[Litestar]
) -> None:
    await noticed(db, client)
    empty = client.get("/staff/partners").text
    assert 'class="note"' in empty and "<table" not in empty
    await outlets.create_outlet(db, ADMIN, SLUG, "红色理发店", "partner")
    page = client.get("/staff/partners", params={"month": "2026-11"})
    assert page.status_code == 200 and "红色理发店" in page.text
    assert "from=2026-11-01&amp;to=2026-11-30" in page.text
    bad = client.get("/staff/partners", params={"month": "2026-13"})
    assert bad.status_code == 400 and 'role="alert"' in bad.text
