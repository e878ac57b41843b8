"""Exports through the API (API.md v1.1 Transparency): every table as CSV (UTF-8 with a BOM) and
XLSX (read back with python-calamine), the same rows in both, Chinese headers, China time, no
cell that starts a formula, every refusal before a byte, and the partners' settlement."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from mall import days
from mall.counter import checkout, refunds
from mall.db import Database
from mall.people import credentials, residents
from mall.shop import items, outlets
from tests import support
from tests.api.helpers import Api, problem
from tests.api.test_awards import give
from tests.api.world import ADMIN, TARGET_NAME, A, World, award

Token = Callable[[str], str]
KEYS = itertools.count()
FORMULA = '=HYPERLINK("http://x")'


def read_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> list[list[Any]]:
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(body)).get_sheet_by_index(0)
    return [
        [int(c) if isinstance(c, float) and c.is_integer() else c for c in row]
        for row in sheet.to_python()
    ]


def export(api: Api, token: str, name: str, **query: str) -> Any:
    return api.get(f"/communities/{A}/exports/{name}", token, params=query)


def both(api: Api, token: str, table: str, **query: str) -> list[list[str]]:
    """The table as CSV and as XLSX: the same rows, cell by cell (numbers as text in CSV)."""
    as_csv = export(api, token, f"{table}.csv", **query)
    as_xlsx = export(api, token, f"{table}.xlsx", **query)
    assert as_csv.status_code == 200, as_csv.text
    assert as_xlsx.status_code == 200, as_xlsx.text
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = read_csv(as_csv.content)
    sheet = read_xlsx(as_xlsx.content)
    assert [[str(c) for c in row] for row in sheet] == rows
    return rows


def test_the_passbook_lists_every_posting_of_every_wallet_in_china_time(
    api: Api, world: World, token: Token
) -> None:
    rows = both(api, token("staff-a"), "passbook")
    assert rows[0] == [
        "流水号", "时间", "居民编号", "居民", "摘要", "途径", "说明", "积分变动", "余额", "凭证号",
    ]  # fmt: skip
    mine = [r for r in rows[1:] if r[3] == TARGET_NAME]
    assert [(r[4], r[5], r[6], r[7], r[8]) for r in mine[:2]] == [
        ("获得积分", "雪中送炭", "帮扶困难户", "30", "30"),
        ("获得积分", "雪中送炭", "参加议事会", "20", "50"),
    ]
    assert mine[0][1].startswith(days.today().strftime("%Y-%m-"))
    assert len(mine[0][1]) == len("2026-12-05 09:30")
    ids = [int(r[0]) for r in rows[1:]]
    assert ids == sorted(ids)


def test_a_name_that_looks_like_a_formula_comes_out_as_text_in_both_formats(
    api: Api, world: World, token: Token
) -> None:
    made = api.run(residents.create_resident, ADMIN, A, FORMULA, None, None)
    api.run(award, A, made.id, 7, f"formula-{made.id}", "-1+2")
    for table in ("residents", "passbook"):
        rows = both(api, token("staff-a"), table)
        found = [r for r in rows if str(made.id) in r[:3] and "'" + FORMULA in r]
        assert found, (table, rows[-3:])
        assert all(not str(c).startswith(("=", "+", "-", "@")) for r in rows for c in r)
    passbook = both(api, token("staff-a"), "passbook")
    assert [r for r in passbook if r[2] == str(made.id)][0][3:8] == [
        "'" + FORMULA,
        "获得积分",
        "雪中送炭",
        "'-1+2",
        "7",
    ]


def test_awards_residents_and_stock_movements_have_a_row_each(
    api: Api, world: World, token: Token
) -> None:
    made = give(api, token("staff-a"), [world.target], memo="议事会")
    assert made.status_code == 201, made.text
    awards = both(api, token("staff-a"), "awards")
    assert awards[0][:9] == [
        "编号",
        "奖励单号",
        "时间",
        "居民编号",
        "居民",
        "规则",
        "途径",
        "积分",
        "状态",
    ]
    line = [r for r in awards[1:] if r[1] == str(made.json()["id"])]
    assert line and line[0][4:10] == [
        TARGET_NAME,
        "参加议事会",
        "锦上添花",
        "5",
        "已发放",
        "staff-a",
    ]
    roster = both(api, token("staff-a"), "residents")
    target = [r for r in roster if r[0] == str(world.target)][0]
    assert target[1:4] == [TARGET_NAME, "13800001111", "第一网格"]
    assert int(target[8]) >= 55
    movements = both(api, token("staff-a"), "stock-movements")
    assert ["香皂", "20", "入库"] in [r[4:7] for r in movements[1:]]


def test_a_range_before_anything_happened_has_only_the_header(
    api: Api, world: World, token: Token
) -> None:
    for table in ("awards", "orders", "stock-movements", "passbook"):
        rows = both(api, token("staff-a"), table, **{"from": "2020-01-01", "to": "2020-01-31"})
        assert len(rows) == 1, (table, rows)


def test_the_file_is_named_after_the_table_community_and_days(
    api: Api, world: World, token: Token
) -> None:
    answer = export(
        api, token("admin"), "orders.xlsx", **{"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="orders-{A}-2026-11-01-2026-11-30.xlsx"'
    )
    assert answer.headers["cache-control"] == "no-store"
    default = export(api, token("staff-a"), "orders.csv")
    first = days.today().replace(day=1)
    assert (
        f"orders-{A}-{first.isoformat()}-{days.today().isoformat()}.csv"
        in (default.headers["content-disposition"])
    )


@pytest.mark.parametrize("name", ["nothing.csv", "awards.pdf", "awards", ".csv", "awards.csv.x"])
def test_an_unknown_table_or_format_is_not_found(api: Api, token: Token, name: str) -> None:
    problem(export(api, token("staff-a"), name), 404, "not_found")


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-13-01"},
        {"to": "yesterday"},
        {"from": "2026-12-05", "to": "2026-12-01"},
        {"from": "2024-01-01", "to": "2026-01-01"},
    ],
)
def test_bad_days_are_a_validation_error(api: Api, token: Token, query: dict[str, str]) -> None:
    problem(export(api, token("staff-a"), "awards.csv", **query), 400, "validation_error")


@pytest.mark.parametrize("caller", ["staff-b", "vol-a", "res-a"])
def test_anyone_but_the_communitys_staff_is_refused_with_nothing_of_it(
    api: Api, token: Token, caller: str
) -> None:
    answer = export(api, token(caller), "passbook.csv")
    problem(answer, 403, "forbidden")
    assert TARGET_NAME not in answer.text
    problem(export(api, None, "passbook.xlsx"), 401, "unauthenticated")  # type: ignore[arg-type]


async def _partner_orders(db: Database, world: World) -> tuple[int, list[int]]:
    """A partner barber of A selling haircuts (10 points) and a shave (4): three orders by
    ``res-a``, the last refunded."""
    shop = await outlets.create_outlet(db, ADMIN, A, "红色理发店", "partner")
    await items.create_item(db, ADMIN, A, sku="CUT", name="理发", kind="service", price_points=10)
    await items.create_item(db, ADMIN, A, sku="SHAVE", name="刮脸", kind="service", price_points=4)
    rid = world.residents["res-a"]
    await award(db, A, rid, 100, f"partner-{shop.id}", "奖励")
    me = support.resident(rid, 0, A)
    made = []
    for lines in ([("CUT", 1)], [("CUT", 2), ("SHAVE", 1)], [("SHAVE", 1)]):
        key = f"partner-{shop.id}-{next(KEYS)}"
        code = (await credentials.new_pay_code(db, me)).code
        done = await checkout.checkout(
            db, ADMIN, shop.id, code=code, lines=lines, idempotency_key=key, req_hash=key
        )
        made.append(done.id)
    await refunds.refund(
        db, support.admin("admin", user_id=world.users["admin"]), made[-1], idempotency_key="r"
    )
    return shop.id, made


def test_the_partner_settlement_counts_points_redeemed_less_refunds_by_item(
    api: Api, world: World, token: Token
) -> None:
    api.run(_partner_orders, world)
    rows = both(api, token("staff-a"), "partner-settlement")
    assert rows[0] == ["兑换点", "商品或服务", "订单数", "数量", "兑换积分", "退还积分", "结算积分"]
    barber = [r[1:] for r in rows[1:] if r[0] == "红色理发店"]
    assert barber == [
        ["刮脸", "2", "2", "8", "4", "4"],
        ["理发", "2", "3", "30", "0", "30"],
        ["合计", "3", "5", "38", "4", "34"],
    ]
    assert all(r[0] != "积分超市" for r in rows[1:])
    next_month = (days.today().replace(day=28) + timedelta(days=4)).replace(day=1)
    later = both(
        api, token("staff-a"), "partner-settlement",
        **{"from": next_month.isoformat(), "to": next_month.isoformat()},
    )  # fmt: skip
    assert later[1:] == [["红色理发店", "合计", "0", "0", "0", "0", "0"]]
