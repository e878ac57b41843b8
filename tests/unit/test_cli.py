"""The ``mall`` command, run as a user runs it, in a subprocess, on the engine under test."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mall.db import open_database
from mall.demo import orders as demo_orders
from tests.conftest import ENGINE, ENGINE_URL, pg_admin, run_mall, with_database
from tests.support import free_port


@pytest.fixture
def empty_url(tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even the schema."""
    if ENGINE == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"mall_empty_{os.getpid()}"
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    yield with_database(ENGINE_URL, name)
    pg_admin(ENGINE_URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrate_creates_the_schema_on_an_empty_database_and_is_repeatable(empty_url: str) -> None:
    first = run_mall("migrate", url=empty_url)
    assert "database is up to date" in first.stdout
    again = run_mall("migrate", url=empty_url)
    assert again.returncode == 0
    assert "no problems found" in run_mall("verify", url=empty_url).stdout


def test_the_database_and_the_secret_key_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    """Under the usual umask (022) a new file is readable by everyone; ``mall`` makes its own
    files, and the folder holding them, its owner's alone."""
    var = tmp_path / "var"
    env = {**os.environ, "MALL_VAR_DIR": str(var), "PICCOLO_CONF": "mall.piccolo_conf"}
    env.pop("MALL_DATABASE_URL", None)
    env.pop("MALL_SECRET_KEY", None)
    subprocess.run(
        ["sh", "-c", f"umask 022; exec {sys.executable} -m mall.cli migrate"],
        env=env,
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    made = [var, var / "mall.db", var / "secret_key"]
    assert all(path.exists() for path in made), sorted(var.iterdir())
    assert {str(path): oct(path.stat().st_mode & 0o777) for path in made} == {
        str(var): "0o700",
        str(var / "mall.db"): "0o600",
        str(var / "secret_key"): "0o600",
    }


def test_demo_loads_once_and_verifies_clean(empty_url: str) -> None:
    loaded = run_mall("demo", url=empty_url)
    assert "demo loaded" in loaded.stdout and "幸福里社区" in loaded.stdout
    again = run_mall("demo", url=empty_url)
    assert "demo not loaded" in again.stdout
    verified = run_mall("verify", url=empty_url)
    assert verified.returncode == 0 and "no problems found" in verified.stdout


#: per community: its supermarket and its partner merchant
DEMO_OUTLETS = {
    "xingfuli": {("幸福里积分超市", "supermarket"), ("王师傅理发店", "partner")},
    "heping": {("和平社区积分超市", "supermarket"), ("和平家电维修部", "partner")},
}
PARTNER_SERVICES = {"xingfuli": "HAIRCUT", "heping": "REPAIR"}
#: the goods and services the demo was asked for: sku → (name, kind)
DEMO_ITEMS = {
    "SOAP": ("香皂", "goods"),
    "TOOTHPASTE": ("牙膏", "goods"),
    "OIL-5L": ("食用油 5L", "goods"),
    "RICE-5KG": ("大米 5kg", "goods"),
    "MOP": ("拖把", "goods"),
    "CASSEROLE": ("砂锅", "goods"),
    "HAIRCUT": ("理发", "service"),
    "REPAIR": ("家电维修（上门检测）", "service"),
}


async def demo_contents(url: str) -> dict[str, dict[str, Any]]:
    """Per community slug: the outlets, catalog, donors, shelf, orders and reservations."""
    db = open_database(url)
    found = {}
    try:
        async with db.connection() as conn:
            for c in await conn.fetch("SELECT id, slug FROM mall_community ORDER BY id"):
                cid = c["id"]
                outlets = await conn.fetch(
                    "SELECT name, kind FROM catalog_outlet WHERE community_id = ?", cid
                )
                items = await conn.fetch(
                    "SELECT sku, name, kind FROM catalog_item WHERE community_id = ? AND active = ?",
                    cid,
                    True,
                )
                donors = await conn.fetch(
                    "SELECT d.kind, COUNT(m.id) AS gifts FROM catalog_donor d "
                    "LEFT JOIN catalog_stock_movement m ON m.donor = d.id "
                    "AND m.reason = 'donation' WHERE d.community_id = ? GROUP BY d.id, d.kind",
                    cid,
                )
                shelf = await conn.fetch(
                    "SELECT i.sku, i.low_stock, COALESCE(l.level, 0) AS level, "
                    "(SELECT COALESCE(SUM(m.quantity), 0) FROM catalog_stock_movement m "
                    "WHERE m.outlet = o.id AND m.item = i.id "
                    "AND m.reason IN ('receipt', 'donation')) AS received "
                    "FROM catalog_item i JOIN catalog_outlet o ON o.community_id = i.community_id "
                    "AND o.kind = 'supermarket' "
                    "LEFT JOIN catalog_stock_level l ON l.outlet = o.id AND l.item = i.id "
                    "WHERE i.community_id = ? AND i.kind = 'goods'",
                    cid,
                )
                orders = await conn.fetch(
                    "SELECT o.status, o.reservation_id, t.kind AS outlet_kind, "
                    "(SELECT MIN(i.sku) FROM mall_order_line l JOIN catalog_item i ON i.id = l.item "
                    "WHERE l.\"order\" = o.id AND i.kind = 'service') AS service "
                    "FROM mall_order o JOIN catalog_outlet t ON t.id = o.outlet "
                    "WHERE o.community = ?",
                    cid,
                )
                helpers = await conn.fetch(
                    "SELECT u.username, o.kind FROM mall_user u LEFT JOIN mall_volunteer_outlet v "
                    "ON v.user_id = u.id LEFT JOIN catalog_outlet o ON o.id = v.outlet "
                    "WHERE u.community = ? AND u.role = 'volunteer'",
                    cid,
                )
                reservations = await conn.fetch(
                    "SELECT r.status, o.id AS order_id FROM mall_reservation r "
                    "LEFT JOIN mall_order o ON o.reservation_id = r.id WHERE r.community = ?",
                    cid,
                )
                found[c["slug"]] = {
                    "outlets": {(r["name"], r["kind"]) for r in outlets},
                    "items": {r["sku"]: (r["name"], r["kind"]) for r in items},
                    "donors": sorted((r["kind"], int(r["gifts"])) for r in donors),
                    "shelf": {
                        r["sku"]: (int(r["level"]), int(r["low_stock"]), int(r["received"]))
                        for r in shelf
                    },
                    "orders": [dict(r) for r in orders],
                    "volunteers": sorted((r["username"], r["kind"] or "") for r in helpers),
                    "reservations": sorted(
                        (r["status"], r["order_id"] is not None) for r in reservations
                    ),
                }
    finally:
        await db.close()
    return found


async def demo_trust(url: str) -> dict[str, dict[str, Any]]:
    """Per community slug: its reversed awards (reason, issuer, reverser), the staff linked to
    their own resident record, and its printed cards (holder, pending, issuer, approver)."""
    db = open_database(url)
    found: dict[str, dict[str, Any]] = {}
    try:
        async with db.connection() as conn:
            for c in await conn.fetch("SELECT id, slug FROM mall_community ORDER BY id"):
                reversed_awards = await conn.fetch(
                    "SELECT a.reversal_reason, mk.username AS issuer, rv.username AS reverser "
                    "FROM mall_award a JOIN mall_user mk ON mk.id = a.created_by "
                    "JOIN mall_user rv ON rv.id = a.reversed_by "
                    "WHERE a.community = ? AND a.status = 'reversed' ORDER BY a.id",
                    c["id"],
                )
                linked = await conn.fetch(
                    "SELECT u.username, r.name FROM mall_user u "
                    "JOIN mall_resident r ON r.id = u.resident WHERE u.community = ? "
                    "AND u.role = 'staff'",
                    c["id"],
                )
                cards = await conn.fetch(
                    "SELECT r.name, k.pending, i.username AS issuer, a.username AS approver "
                    "FROM mall_code k JOIN mall_resident r ON r.id = k.resident "
                    "LEFT JOIN mall_user i ON i.id = k.created_by "
                    "LEFT JOIN mall_user a ON a.id = k.approved_by "
                    "WHERE r.community = ? AND k.kind = 'card' AND k.revoked_at IS NULL "
                    "ORDER BY k.id",
                    c["id"],
                )
                found[c["slug"]] = {
                    "reversed": [tuple(r) for r in reversed_awards],
                    "linked": [tuple(r) for r in linked],
                    "cards": [
                        (r["name"], bool(r["pending"]), r["issuer"], r["approver"]) for r in cards
                    ],
                }
    finally:
        await db.close()
    return found


def test_demo_shows_the_trust_controls_at_work(empty_url: str) -> None:
    """A mistaken award reversed by the other staff member with the reason residents read, a staff
    member linked to their own resident record, and a printed card waiting for a second staff
    member (the others approved by one)."""
    printed = run_mall("demo", url=empty_url).stdout
    found = asyncio.run(demo_trust(empty_url))
    assert found["xingfuli"] == {
        "reversed": [
            ("同一次议事会记了两次，撤销重复的一笔", "xingfuli-staff2", "xingfuli-staff1")
        ],
        "linked": [("xingfuli-staff2", "黄明")],
        "cards": [
            ("张桂兰", False, "xingfuli-staff1", "xingfuli-staff2"),
            ("赵淑芬", True, "xingfuli-staff1", None),
        ],
    }
    assert found["heping"]["linked"] == [("heping-staff2", "马秀兰")]
    assert found["heping"]["cards"] == [("徐美玲", True, "heping-staff1", None)]
    assert "赵淑芬" in printed and "待另一位工作人员审核" in printed
    assert "no problems found" in run_mall("verify", url=empty_url).stdout


def test_demo_holds_outlets_goods_services_donors_stock_and_a_history(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    found = asyncio.run(demo_contents(empty_url))
    assert sorted(found) == sorted(DEMO_OUTLETS)
    for slug, outlets in DEMO_OUTLETS.items():
        got = found[slug]
        assert got["outlets"] == outlets, slug
        assert {sku: got["items"].get(sku) for sku in DEMO_ITEMS} == DEMO_ITEMS, slug
        # a 双报到 unit and a merchant, each of whom has given goods
        assert [kind for kind, gifts in got["donors"] if gifts > 0] == ["merchant", "unit"], slug
        shelf = got["shelf"]
        goods = {sku for sku, (_, kind) in DEMO_ITEMS.items() if kind == "goods"}
        assert goods <= set(shelf), slug
        assert all(received > 0 for _, _, received in shelf.values()), shelf
        running_low = [sku for sku, (level, low, _) in shelf.items() if level <= low]
        assert len(running_low) == 1, shelf  # the one item the demo lets run low
        assert all(level > 0 for sku, (level, _, _) in shelf.items() if sku not in running_low)
        # orders paid at the supermarket's counter: a random pick may meet a monthly limit or a
        # short wallet and be refused (the demo then has one order fewer), but most are paid
        counter = [
            o
            for o in got["orders"]
            if o["outlet_kind"] == "supermarket" and o["reservation_id"] is None
        ]
        assert len(counter) >= demo_orders.ORDERS // 2, (slug, len(counter))
        assert [o["status"] for o in got["orders"]].count("refunded") == 1, slug
        at_partner = [o["status"] for o in got["orders"] if o["outlet_kind"] == "partner"]
        assert at_partner == ["completed"], slug
        # the partner's own service: a haircut at the barber's, a repair at the repair shop
        at_partner = [o["service"] for o in got["orders"] if o["outlet_kind"] == "partner"]
        assert at_partner == [PARTNER_SERVICES[slug]], slug
        # one reservation collected at the counter (with its order), one waiting for pickup
        assert got["reservations"] == [("collected", True), ("held", False)], slug
        # the first volunteer serves everywhere, the second at the partner merchant only
        assert got["volunteers"] == [(f"{slug}-volunteer1", ""), (f"{slug}-volunteer2", "partner")]


def tamper(url: str) -> None:
    """Change posting #7's amount behind the app's back (its append-only trigger dropped first),
    as an insider with the database file would; mall verify must name the row."""
    if ENGINE == "sqlite":
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("DROP TRIGGER ledger_posting_no_update")
        conn.execute("UPDATE ledger_posting SET amount = amount + 1 WHERE id = 7")
        conn.commit()
        conn.close()
    else:
        pg_admin(
            url,
            "DROP TRIGGER ledger_posting_append_only ON ledger_posting",
            "UPDATE ledger_posting SET amount = amount + 1 WHERE id = 7",
        )


def test_verify_exits_non_zero_and_names_the_row_after_tampering(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    tamper(empty_url)
    result = run_mall("verify", url=empty_url, check=False)
    assert result.returncode == 1
    assert "ledger_posting #7: hash chain" in result.stdout
    assert "problems found" in result.stdout


def test_serve_migrates_then_answers_health_and_the_home_page(
    empty_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = {**os.environ, "MALL_DATABASE_URL": empty_url, "MALL_VAR_DIR": str(tmp_path / "var")}
    server = subprocess.Popen(
        [sys.executable, "-m", "mall.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        home = httpx.get(f"http://127.0.0.1:{port}/")
        assert home.status_code == 200 and "邻里积分超市" in home.text
        assert "no problems found" in run_mall("verify", url=empty_url).stdout  # it migrated
        assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("MALL_DB_POOL_SIZE", "many", "MALL_DB_POOL_SIZE must be a whole number from 1 to 100"),
        (
            "MALL_RESERVATION_DAYS",
            "90",
            "MALL_RESERVATION_DAYS must be a whole number from 1 to 60",
        ),
    ],
)
def test_a_wrong_setting_stops_serve_with_its_name_and_no_traceback(
    empty_url: str, name: str, value: str, says: str
) -> None:
    env = {**os.environ, "MALL_DATABASE_URL": empty_url, name: value}
    run = subprocess.run(
        [sys.executable, "-m", "mall.cli", "serve", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert says in run.stderr
    assert "Traceback" not in run.stderr


async def demo_statistics(url: str) -> list[tuple[Any, dict[str, int]]]:
    """Per community: the statistics over everything the demo made, and the same figures
    worked out by hand from the ledger's accounts and the tables."""
    from datetime import timedelta

    from mall.access import Admin
    from mall.days import today
    from mall.reports import stats

    db = open_database(url)
    admin = Admin(user_id=None, username="test")
    found = []
    try:
        async with db.connection() as conn:
            communities = await conn.fetch("SELECT id, slug, book FROM mall_community ORDER BY id")
            for c in communities:
                report = await stats.community_report(
                    db, admin, c["slug"], start=today() - timedelta(days=300), end=today()
                )

                async def total(sql: str, *args: Any) -> int:
                    return int(await conn.fetchval(sql, *args) or 0)

                lines = (
                    "SELECT SUM(l.points) FROM mall_award_line l JOIN mall_award a "
                    "ON a.id = l.award WHERE a.community = ? AND a.status IN "
                )
                hand = {
                    "issued": await total(lines + "('posted', 'reversed')", c["id"]),
                    "reversed": await total(lines + "('reversed')", c["id"]),
                    "held_and_in_wallets": await total(
                        "SELECT SUM(balance) FROM ledger_account WHERE book = ? "
                        "AND (code LIKE 'wallet:%' OR code = 'holds')",
                        c["book"],
                    ),
                    "at_the_outlets": await total(
                        "SELECT SUM(balance) FROM ledger_account WHERE book = ? "
                        "AND code LIKE 'redeemed:%'",
                        c["book"],
                    ),
                    "on_the_shelves": await total(
                        "SELECT SUM(i.price_points * l.level) FROM catalog_stock_level l "
                        "JOIN catalog_item i ON i.id = l.item WHERE i.community_id = ? "
                        "AND i.kind = 'goods'",
                        c["id"],
                    ),
                    "residents": await total(
                        "SELECT COUNT(*) FROM mall_resident WHERE community = ? "
                        "AND closed_at IS NULL",
                        c["id"],
                    ),
                }
                found.append((report.figures, hand))
    finally:
        await db.close()
    return found


async def last_months_awards(url: str) -> list[Any]:
    """Each community's statistics for last calendar month (China time)."""
    from mall.access import Admin
    from mall.days import today
    from mall.reports import stats

    db = open_database(url)
    admin = Admin(user_id=None, username="test")
    last_day = today().replace(day=1) - timedelta(days=1)
    try:
        async with db.connection() as conn:
            slugs = [r["slug"] for r in await conn.fetch("SELECT slug FROM mall_community")]
        return [
            await stats.community_report(db, admin, s, start=last_day.replace(day=1), end=last_day)
            for s in slugs
        ]
    finally:
        await db.close()


def test_the_demo_has_a_month_of_history_in_its_statistics(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    for report in asyncio.run(last_months_awards(empty_url)):
        assert report.figures.issued > 0, report  # last month is never empty, whatever today's date
        assert report.figures.earners > 1, report


def test_the_demos_statistics_match_totals_worked_out_by_hand(empty_url: str) -> None:
    run_mall("demo", url=empty_url)
    for figures, hand in asyncio.run(demo_statistics(empty_url)):
        assert figures.issued > 0 and figures.redeemed > 0, figures  # a month with something in it
        assert figures.issued == hand["issued"]
        assert figures.reversed == hand["reversed"] > 0  # the demo reverses an award
        by_path = figures.issued_by_path
        assert by_path.timely_help + by_path.adding_to_good + by_path.settling_disputes == (
            figures.issued
        )
        assert figures.outstanding == hand["held_and_in_wallets"]
        assert figures.redeemed - figures.refunded == hand["at_the_outlets"]
        assert figures.stock_value == hand["on_the_shelves"]
        assert figures.residents == hand["residents"]


async def demo_community(url: str) -> dict[str, Any]:
    """xingfuli's households, live proxy grants, building heads and their proposals."""
    db = open_database(url)
    try:
        async with db.connection() as conn:
            c = await conn.fetchval("SELECT id FROM mall_community WHERE slug = 'xingfuli'")
            homes = await conn.fetch(
                "SELECT h.address, r.name FROM mall_household h JOIN mall_resident r "
                "ON r.household = h.id WHERE h.community = ? ORDER BY h.address, r.id",
                c,
            )
            grants = await conn.fetch(
                "SELECT r.name AS resident, p.name AS proxy FROM mall_proxy x "
                "JOIN mall_resident r ON r.id = x.resident JOIN mall_resident p ON p.id = x.proxy "
                "WHERE x.community = ? AND x.ended_at IS NULL",
                c,
            )
            heads = await conn.fetch(
                "SELECT u.username, r.name, b.building FROM mall_user u "
                "JOIN mall_resident r ON r.id = u.resident "
                "JOIN mall_user_building b ON b.user_id = u.id "
                "WHERE u.community = ? AND u.role = 'building_head'",
                c,
            )
            proposed = await conn.fetch(
                "SELECT a.status, r.name, r.building FROM mall_award a "
                "JOIN mall_user u ON u.id = a.created_by "
                "JOIN mall_award_line l ON l.award = a.id "
                "JOIN mall_resident r ON r.id = l.resident "
                "WHERE a.community = ? AND u.role = 'building_head'",
                c,
            )
            buildings = await conn.fetchval(
                "SELECT COUNT(*) FROM mall_resident WHERE community = ? AND building IS NULL", c
            )
    finally:
        await db.close()
    return {
        "households": [tuple(r) for r in homes],
        "grants": [tuple(r) for r in grants],
        "heads": [tuple(r) for r in heads],
        "proposed": [tuple(r) for r in proposed],
        "without_building": buildings,
    }


def test_demo_has_households_a_proxy_and_a_building_head(empty_url: str) -> None:
    """Issue #20: every record has a building; two households; 李建国 collects for 张桂兰, who
    has no smartphone; 刘德华 heads building 2 and his proposal for 陈玉珍 waits for staff."""
    printed = run_mall("demo", url=empty_url).stdout
    found = asyncio.run(demo_community(empty_url))
    assert found["without_building"] == 0
    assert found["households"] == [
        ("1号楼1单元101室", "王秀英"),
        ("1号楼2单元201室", "李建国"),
        ("1号楼2单元201室", "张桂兰"),
    ]
    assert found["grants"] == [("张桂兰", "李建国")]
    assert found["heads"] == [("xingfuli-head1", "刘德华", "2")]
    assert found["proposed"] == [("pending_approval", "陈玉珍", "2")]
    assert "xingfuli-head1" in printed
    assert "no problems found" in run_mall("verify", url=empty_url).stdout
