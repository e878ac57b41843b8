"""The statistics pages through HTTP: a community's for its staff, the street's for the
administrator, each chart a script-free SVG beside a table of the same numbers, the coverage
warning in words, the month picker, and nobody else let in."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient
from python_calamine import CalamineWorkbook

from mall.days import today
from mall.db import Database
from mall.earning import awards, rules
from mall.people import auth, residents, users
from mall.reports import stats
from tests import support
from tests.web.test_pages_account import PASSWORD, community, is_full_page, signed_in
from tests.web.test_pages_admin import admin, cells
from tests.web.test_pages_admin import street as quiet_street
from web import charts, qr

WARNING = "兑付能力不足"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HELP = "雪中送炭"  # the timely_help path


async def street(db: Database) -> dict[str, Any]:
    """The administrator's street (xingfuli: residents hold 120 points, the shelves nothing),
    and an award of 30 points along the timely_help path to a new resident of xingfuli, made
    by its staff member through the award service: residents hold 150."""
    made = await quiet_street(db)
    staff = support.staff(made["staff"], made["id"], "xingfuli")
    await rules.create_rule(db, staff, "xingfuli", "help", "帮扶邻居", "timely_help", 30)
    rid = (await residents.create_resident(db, staff, "xingfuli", "李建国", None, None)).id
    await awards.create_award(db, staff, "xingfuli", "help", [rid], "帮扶", idempotency_key="a")
    return made


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", page, re.S)


async def test_staff_see_their_community_s_charts_beside_tables(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/stats")
    assert page.status_code == 200 and is_full_page(page.text)
    assert "幸福里社区" in page.text and "和平社区" not in page.text
    charts = [s for s in svgs(page.text) if 'class="chart"' in s]
    assert len(charts) >= 5
    for chart in charts:
        assert "<script" not in chart.lower() and "<style" not in chart.lower()
        assert 'role="img"' in chart and "style=" not in chart
    path_chart = next(c for c in charts if 'aria-label="按途径发放积分"' in c)
    assert HELP in path_chart and ">30<" in path_chart
    assert cells(page.text, HELP) == ["30"]


async def test_coverage_under_one_is_a_warning_in_words(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)  # residents hold 150 points, the shelves nothing
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/stats").text
    assert WARNING in page and 'role="alert"' in page
    assert "0.00" in page


async def test_the_administrator_sees_every_community_and_the_street(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    await admin(db, client)
    page = client.get("/admin/stats")
    assert page.status_code == 200
    assert "幸福里社区" in page.text and "和平社区" in page.text
    assert cells(page.text, "幸福里社区")[0] == "30"
    assert cells(page.text, "和平社区")[0] == "0"
    assert WARNING in page.text
    one = client.get("/staff/stats?community=heping")
    assert one.status_code == 200 and "和平社区" in one.text


async def test_a_month_or_two_days_choose_the_range(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    await signed_in(db, client, made["staff"])
    page = client.get("/staff/stats?month=2025-02").text
    assert "2025-02-01" in page and "2025-02-28" in page
    assert cells(page, HELP) == ["0"]
    days = client.get("/staff/stats?from=2025-03-02&to=2025-03-09").text
    assert "2025-03-02" in days and "2025-03-09" in days


async def test_a_bad_month_or_range_says_why_and_shows_this_month(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    await signed_in(db, client, made["staff"])
    for query in (
        "month=2025-13",
        "from=yesterday",
        "from=2025-03-09&to=2025-03-02",
        "from=2024-01-01&to=2025-06-01",
    ):
        page = client.get(f"/staff/stats?{query}")
        assert page.status_code == 400, query
        assert 'class="error"' in page.text and cells(page.text, HELP) == ["30"]


async def test_nobody_else_sees_the_statistics(db: Database, client: TestClient[Litestar]) -> None:
    made = await street(db)
    await community(db, "heping-2", "别的社区")
    other = await users.create_user_unchecked(db, "other-staff", PASSWORD, "staff", "heping")
    assert client.get("/staff/stats", follow_redirects=False).status_code in (302, 303)
    await signed_in(db, client, made["volunteer"])
    assert client.get("/staff/stats").status_code == 403
    assert client.get("/admin/stats").status_code == 403
    await signed_in(db, client, other.id)
    page = client.get("/staff/stats?community=xingfuli")  # their own, whatever they ask
    assert page.status_code == 200 and "幸福里社区" not in page.text
    assert client.get("/admin/stats").status_code == 403


async def test_the_dashboard_and_the_landing_page_link_to_the_statistics(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    await signed_in(db, client, made["staff"])
    assert 'href="/staff/stats"' in client.get("/staff/earning").text
    await admin(db, client)
    assert 'href="/admin/stats"' in client.get("/admin").text


# The monthly workbook -----------------------------------------------------------------------


async def api_token(db: Database, user_id: int) -> str:
    async with db.transaction() as conn:
        return await auth.create_session(conn, "api", user_id=user_id, ttl=auth.API_TOKEN)


def workbook_of(response: Response) -> CalamineWorkbook:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(XLSX)
    return CalamineWorkbook.from_filelike(io.BytesIO(response.content))


async def test_the_street_workbook_reads_back_as_the_api_counts(
    db: Database, client: TestClient[Litestar]
) -> None:
    await street(db)
    admin_id = await admin(db, client)
    month = f"{today():%Y-%m}"
    book = workbook_of(client.get(f"/admin/reports/monthly.xlsx?month={month}"))
    assert book.sheet_names[:2] == ["说明", "概况"]
    assert "按途径发放积分" in book.sheet_names and "热门商品" in book.sheet_names
    first, last = stats.month(month)
    token = await api_token(db, admin_id)
    answer = client.get(
        f"/api/v1/stats?from={first}&to={last}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    rows = book.get_sheet_by_name("概况").to_python()
    header, by_name = rows[0], {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert header[:3] == ["社区", "已发放", "雪中送炭"]
    names = {"xingfuli": "幸福里社区", "heping": "和平社区"}
    for one in answer["communities"]:
        row = by_name[names[one["slug"]]]
        assert row["已发放"] == one["issued"]
        assert row["居民现持有积分"] == one["outstanding"]
        assert row["现有货品价值（积分）"] == one["stock_value"]
    assert by_name["全街道合计"]["已发放"] == answer["total"]["issued"] == 30
    about = book.get_sheet_by_name("说明").to_python()
    assert about[1] == ["第一天", f"{first}"] and about[2] == ["最后一天", f"{last}"]
    paths = book.get_sheet_by_name("按途径发放积分").to_python()
    assert ["幸福里社区", "雪中送炭", 30] in paths and ["全街道合计", "雪中送炭", 30] in paths


async def test_a_community_s_workbook_is_its_own_and_escapes_formulas(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    staff = support.staff(made["staff"], made["id"], "xingfuli")
    await rules.create_rule(db, staff, "xingfuli", "evil", "=HYPERLINK(1)", "adding_to_good", 5)
    rid = (await residents.create_resident(db, staff, "xingfuli", "赵大妈", None, None)).id
    await awards.create_award(db, staff, "xingfuli", "evil", [rid], "测试", idempotency_key="e")
    await signed_in(db, client, made["staff"])
    book = workbook_of(client.get("/staff/reports/monthly.xlsx"))
    by_rule = book.get_sheet_by_name("按规则发放积分").to_python()
    assert ["幸福里社区", "'=HYPERLINK(1)", 5] in by_rule
    assert all(row[0] == "幸福里社区" for row in by_rule[1:])
    rows = book.get_sheet_by_name("概况").to_python()
    assert [r[0] for r in rows[1:]] == ["幸福里社区"]


async def test_only_staff_and_administrators_get_a_workbook(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    assert client.get("/staff/reports/monthly.xlsx", follow_redirects=False).status_code in (
        302,
        303,
    )
    await signed_in(db, client, made["volunteer"])
    assert client.get("/staff/reports/monthly.xlsx").status_code == 403
    await signed_in(db, client, made["staff"])
    assert client.get("/admin/reports/monthly.xlsx").status_code == 403
    bad = client.get("/staff/reports/monthly.xlsx?month=2026-13")
    assert bad.status_code == 400 and "YYYY-MM" in bad.text


async def test_a_chart_holds_no_script_whatever_its_labels_say() -> None:
    await qr.render("https://example.org/c/xingfuli/notice")  # qrcode registers an svg: prefix
    drawn = charts.bar("<script>alert(1)</script>", ["<script>x</script>", "=1+1"], [3, 4])
    assert drawn.startswith("<svg ") and "<script" not in drawn.lower()
    assert "&lt;script&gt;" in drawn and "style=" not in drawn


async def test_the_workbook_s_temporary_file_is_removed_once_sent(
    db: Database, client: TestClient[Litestar]
) -> None:
    made = await street(db)
    await signed_in(db, client, made["staff"])
    before = set(Path(tempfile.gettempdir()).glob("mall-report-*.xlsx"))
    workbook_of(client.get("/staff/reports/monthly.xlsx"))
    assert set(Path(tempfile.gettempdir()).glob("mall-report-*.xlsx")) <= before
