"""Two ``mall serve`` processes on one database, as a street runs them behind one proxy: checkouts
racing across them never spend a point twice, nor one pay code twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from mall.db import Database
from mall.people import auth
from mall.settings import get_settings
from tests.conftest import run_mall
from tests.shop_fixtures import build_shop
from tests.support import serving


async def checkout(
    client: httpx.AsyncClient, base: str, token: str, outlet: int, code: str, key: str
) -> httpx.Response:
    return await client.post(
        f"{base}/api/v1/outlets/{outlet}/orders",
        json={"code": code, "lines": [{"sku": "haircut", "quantity": 1}]},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


async def test_checkouts_racing_across_two_servers_never_double_spend(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # every app server signs and checks codes with the same key (docs/deploy.md)
    monkeypatch.setenv("MALL_SECRET_KEY", get_settings().secret_key)
    shop = await build_shop(db)
    resident = await shop.new_resident("王秀英", 100)  # a haircut costs 15: six of them, no more
    codes = await shop.counter_codes(resident, 16)
    async with db.transaction() as conn:
        token = await auth.create_session(
            conn, "api", user_id=shop.volunteer.user_id, ttl=auth.API_TOKEN
        )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with serving(db_url, tmp_path / "a") as one, serving(db_url, tmp_path / "b") as two:
        async with httpx.AsyncClient(timeout=30) as client:
            # sixteen counters at once, alternating between the servers, each with its own code
            answers = await asyncio.gather(
                *(
                    checkout(client, (one, two)[n % 2], token, shop.outlet, code, f"race-{n}")
                    for n, code in enumerate(codes)
                )
            )
            # one code shown at two counters at once, one on each server
            code = await shop.pay_code(await shop.new_resident("李建国", 100))
            same = await asyncio.gather(
                checkout(client, one, token, shop.outlet, code, "same-1"),
                checkout(client, two, token, shop.outlet, code, "same-2"),
            )
    paid = [a for a in answers if a.status_code == 201]
    refused = [a.json()["code"] for a in answers if a.status_code != 201]
    assert len(paid) == 6, [a.text for a in answers]
    assert refused == ["insufficient_points"] * 10
    assert await shop.balance(resident) == 100 - 6 * 15
    assert sorted(a.status_code for a in same) == [201, 409]
    assert [a.json()["code"] for a in same if a.status_code == 409] == ["code_used"]
    assert "no problems found" in run_mall("verify", url=db_url).stdout
