"""The catalog and stock endpoints: outlets, donors, items, stock changes, idempotency, scope,
and the ledger check that now covers stock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from httpx import Response

from mall.db import Database
from tests.api.helpers import Api, problem
from tests.api.world import A, World

Token = Callable[[str], str]


def audit_actions(api: Api, staff: str) -> list[str]:
    return [e["action"] for e in api.get(f"/communities/{A}/audit", staff).json()["entries"]]


def level(api: Api, token: str, outlet: int, sku: str) -> int:
    items = api.get(f"/outlets/{outlet}/stock", token).json()["items"]
    found: int = next(i["level"] for i in items if i["sku"] == sku)
    return found


def ledger_accounts(api: Api) -> set[str]:
    async def read(db: Database) -> set[str]:
        async with db.connection() as conn:
            rows = await conn.fetch("SELECT code FROM ledger_account")
        return {r["code"] for r in rows}

    return api.run(read)


def test_staff_open_an_outlet_with_its_redeemed_accounts_and_it_is_audited(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    made = api.post(
        f"/communities/{A}/outlets", staff, json={"name": "王师傅理发", "kind": "partner"}
    )
    assert made.status_code == 201, made.text
    outlet = made.json()
    assert outlet["kind"] == "partner" and outlet["name"] == "王师傅理发"
    opened = ledger_accounts(api)
    assert all(f"redeemed:o{outlet['id']}:{n}" in opened for n in range(8))
    listed = api.get(f"/communities/{A}/outlets", token("res-a")).json()["outlets"]
    assert outlet["id"] in [o["id"] for o in listed]
    assert "outlet.create" in audit_actions(api, staff)


@pytest.mark.parametrize(
    "body",
    [{"name": "超市", "kind": "shop"}, {"name": "", "kind": "supermarket"}, {"kind": "partner"}],
)
def test_a_wrong_outlet_is_a_validation_error_and_opens_nothing(
    api: Api, token: Token, body: dict[str, Any]
) -> None:
    staff = token("staff-a")
    before = api.get(f"/communities/{A}/outlets", staff).json()["outlets"]
    problem(api.post(f"/communities/{A}/outlets", staff, json=body), 400, "validation_error")
    assert api.get(f"/communities/{A}/outlets", staff).json()["outlets"] == before


def item_body(**fields: Any) -> dict[str, Any]:
    return {
        "sku": "OIL-5L",
        "name": "食用油",
        "kind": "goods",
        "price_points": 60,
        "unit": "桶",
        "category": "粮油",
        "monthly_limit": 1,
        "low_stock": 3,
        **fields,
    }


def test_staff_add_an_item_and_residents_see_it_in_the_catalog(api: Api, token: Token) -> None:
    staff = token("staff-a")
    made = api.post(f"/communities/{A}/items", staff, json=item_body())
    assert made.status_code == 201, made.text
    assert {k: made.json()[k] for k in ("sku", "price_points", "monthly_limit", "active")} == {
        "sku": "OIL-5L",
        "price_points": 60,
        "monthly_limit": 1,
        "active": True,
    }
    catalog = api.get(f"/communities/{A}/items", token("res-a")).json()["items"]
    assert "OIL-5L" in [i["sku"] for i in catalog]
    problem(
        api.post(f"/communities/{A}/items", staff, json=item_body(name="另一种油")),
        409,
        "already_exists",
    )
    assert "item.create" in audit_actions(api, staff)


@pytest.mark.parametrize(
    "fields",
    [
        {"price_points": 0},
        {"price_points": -1},
        {"kind": "food"},
        {"sku": "has space"},
        {"sku": ""},
        {"name": "   "},
        {"monthly_limit": 0},
        {"low_stock": -2},
        {"donor": 987654},
        {"name": "a\x00b"},
    ],
)
def test_a_wrong_item_is_a_validation_error_and_adds_nothing(
    api: Api, token: Token, fields: dict[str, Any]
) -> None:
    staff = token("staff-a")
    before = api.get(f"/communities/{A}/items", staff).json()["items"]
    problem(
        api.post(f"/communities/{A}/items", staff, json=item_body(**{"sku": "NEW-1", **fields})),
        400,
        "validation_error",
    )
    assert api.get(f"/communities/{A}/items", staff).json()["items"] == before


def test_receipts_raise_the_level_and_a_retry_with_the_same_key_posts_nothing(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")
    body = {"sku": "SOAP", "quantity": 12, "reason": "receipt", "memo": "第一批"}
    first = api.post(
        f"/outlets/{outlet}/stock", staff, json=body, headers={"Idempotency-Key": "r1"}
    )
    assert first.status_code == 201 and first.json() == {"sku": "SOAP", "level": start + 12}
    again = api.post(
        f"/outlets/{outlet}/stock", staff, json=body, headers={"Idempotency-Key": "r1"}
    )
    assert again.status_code == 201 and again.json() == first.json()
    assert level(api, staff, outlet, "SOAP") == start + 12
    problem(
        api.post(
            f"/outlets/{outlet}/stock",
            staff,
            json={**body, "quantity": 13},
            headers={"Idempotency-Key": "r1"},
        ),
        422,
        "idempotency_key_reused",
    )
    assert level(api, staff, outlet, "SOAP") == start + 12


def test_a_stock_change_needs_an_idempotency_key(api: Api, token: Token, world: World) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")
    response = api.post(
        f"/outlets/{outlet}/stock", staff, json={"sku": "SOAP", "quantity": 1, "reason": "receipt"}
    )
    problem(response, 400, "validation_error")
    assert level(api, staff, outlet, "SOAP") == start


def test_a_donation_names_its_donor_who_is_found_or_recorded(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")
    for n in (1, 2):
        response = api.post(
            f"/outlets/{outlet}/stock",
            staff,
            json={"sku": "SOAP", "quantity": 5, "reason": "donation", "donor": "区税务局党支部"},
            headers={"Idempotency-Key": f"gift-{n}"},
        )
        assert response.status_code == 201, response.text
    assert level(api, staff, outlet, "SOAP") == start + 10
    donors = api.get(f"/communities/{A}/donors", staff).json()["donors"]
    assert [d["name"] for d in donors].count("区税务局党支部") == 1
    problem(
        api.post(
            f"/outlets/{outlet}/stock",
            staff,
            json={"sku": "SOAP", "quantity": 5, "reason": "donation"},
            headers={"Idempotency-Key": "gift-none"},
        ),
        400,
        "validation_error",
    )
    assert level(api, staff, outlet, "SOAP") == start + 10


def test_a_stocktake_posts_the_difference_and_an_equal_count_posts_nothing(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")

    def count(n: int, key: str) -> Response:
        return api.post(
            f"/outlets/{outlet}/stock",
            staff,
            json={"sku": "SOAP", "quantity": n, "reason": "stocktake"},
            headers={"Idempotency-Key": key},
        )

    assert count(start - 2, "count-1").json() == {"sku": "SOAP", "level": start - 2}
    assert count(start - 2, "count-1").json() == {"sku": "SOAP", "level": start - 2}
    assert count(start - 2, "count-2").json() == {"sku": "SOAP", "level": start - 2}
    assert "stock.stocktake" in audit_actions(api, staff)
    assert level(api, staff, outlet, "SOAP") == start - 2


@pytest.mark.parametrize(
    "body",
    [
        {"sku": "SOAP", "quantity": 0, "reason": "receipt"},
        {"sku": "SOAP", "quantity": -3, "reason": "receipt"},
        {"sku": "SOAP", "quantity": -3, "reason": "donation", "donor": "某单位"},
        {"sku": "SOAP", "quantity": -1, "reason": "stocktake"},
        {"sku": "SOAP", "quantity": -1, "reason": "adjustment"},
        {"sku": "SOAP", "quantity": 0, "reason": "adjustment", "memo": "破损"},
        {"sku": "SOAP", "quantity": 1, "reason": "redemption"},
        {"sku": "NO-SUCH", "quantity": 1, "reason": "receipt"},
        {"sku": "SOAP", "quantity": 1.5, "reason": "receipt"},
    ],
)
def test_a_wrong_stock_change_is_a_validation_error_and_moves_nothing(
    api: Api, token: Token, world: World, body: dict[str, Any]
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")
    response = api.post(
        f"/outlets/{outlet}/stock", staff, json=body, headers={"Idempotency-Key": "bad"}
    )
    problem(response, 400, "validation_error")
    assert level(api, staff, outlet, "SOAP") == start


def test_an_adjustment_below_zero_is_out_of_stock_and_says_what_is_left(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    start = level(api, staff, outlet, "SOAP")
    body = {"sku": "SOAP", "quantity": -(start + 1), "reason": "adjustment", "memo": "丢失"}
    refused = problem(
        api.post(f"/outlets/{outlet}/stock", staff, json=body, headers={"Idempotency-Key": "adj"}),
        409,
        "out_of_stock",
    )
    assert "香皂" in refused["title"] and str(start) in refused["title"]
    ok = {**body, "quantity": -1, "memo": "破损一块"}
    done = api.post(f"/outlets/{outlet}/stock", staff, json=ok, headers={"Idempotency-Key": "adj2"})
    assert done.status_code == 201 and done.json()["level"] == start - 1


def test_services_are_not_stocked_and_are_left_out_of_the_stock_list(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    made = api.post(
        f"/communities/{A}/items",
        staff,
        json={"sku": "HAIRCUT", "name": "理发", "kind": "service", "price_points": 20},
    )
    assert made.status_code == 201, made.text
    body = problem(
        api.post(
            f"/outlets/{outlet}/stock",
            staff,
            json={"sku": "HAIRCUT", "quantity": 1, "reason": "receipt"},
            headers={"Idempotency-Key": "svc"},
        ),
        400,
        "validation_error",
    )
    assert "理发" in body["detail"]
    listed = api.get(f"/outlets/{outlet}/stock", token("vol-a")).json()["items"]
    assert "HAIRCUT" not in [i["sku"] for i in listed]
    assert "SOAP" in [i["sku"] for i in listed]


def test_low_stock_lists_goods_at_or_below_their_level(
    api: Api, token: Token, world: World
) -> None:
    staff, outlet = token("staff-a"), world.outlets["outlet-a"]
    api.post(
        f"/communities/{A}/items", staff, json=item_body(sku="TOWEL", name="毛巾", low_stock=5)
    )
    api.post(
        f"/outlets/{outlet}/stock",
        staff,
        json={"sku": "TOWEL", "quantity": 4, "reason": "receipt"},
        headers={"Idempotency-Key": "towel"},
    )
    low = api.get(f"/communities/{A}/low-stock", token("vol-a")).json()["items"]
    assert {"outlet_id": outlet, "sku": "TOWEL", "level": 4, "low_stock": 5}.items() <= next(
        r for r in low if r["sku"] == "TOWEL"
    ).items()


def test_another_communitys_staff_cannot_stock_or_see_the_outlet(
    api: Api, token: Token, world: World
) -> None:
    outlet = world.outlets["outlet-a"]
    start = level(api, token("staff-a"), outlet, "SOAP")
    refused = api.post(
        f"/outlets/{outlet}/stock",
        token("staff-b"),
        json={"sku": "SOAP", "quantity": 5, "reason": "receipt"},
        headers={"Idempotency-Key": "b"},
    )
    problem(refused, 404, "not_found")
    problem(api.get(f"/outlets/{outlet}/stock", token("res-b")), 404, "not_found")
    problem(
        api.get(f"/outlets/{world.outlets['outlet-b']}/stock", token("res-a")), 404, "not_found"
    )
    assert level(api, token("staff-a"), outlet, "SOAP") == start


def test_the_ledger_check_names_a_forged_stock_level(api: Api, token: Token, world: World) -> None:
    admin = token("admin")
    clean = api.get("/ledger/verify", admin).json()
    assert clean["ok"] and clean["stock_movements"] > 0, clean

    async def forge(db: Database, delta: int) -> int:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE catalog_stock_level SET level = level + ? WHERE outlet = ?",
                delta,
                world.outlets["outlet-a"],
            )
            forged: int = await conn.fetchval(
                "SELECT MIN(id) FROM catalog_stock_level WHERE outlet = ?",
                world.outlets["outlet-a"],
            )
            return forged

    row = api.run(forge, 7)
    try:
        found = api.get("/ledger/verify", admin).json()
    finally:
        api.run(forge, -7)
    assert found["ok"] is False
    assert {
        "check": "level = sum of movements",
        "table": "catalog_stock_level",
        "row": row,
    }.items() <= next(p for p in found["problems"] if p["row"] == row).items()
    assert api.get("/ledger/verify", admin).json()["ok"]
