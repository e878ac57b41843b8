"""Goods and services on the shelves (商品与服务): creating and editing items with their price in
points, monthly limit (限兑) and picture, and what residents may browse.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

import catalog
import ledger
from mall import access, text
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Invalid, NotFound
from mall.shop import pictures
from mall.shop.outlets import VIEWERS, _donor, whole_number
from mall.shop.stock import MAX_QUANTITY
from mall.shop.values import Item, Outlet, from_row

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


class Shelf(msgspec.Struct, frozen=True, kw_only=True):
    """What one outlet has on the shelf of an item."""

    outlet_id: int
    outlet: str
    level: int


class Offer(Item, frozen=True, kw_only=True):
    """An active item as a resident browses it, with its shelves (none for a service)."""

    shelves: list[Shelf]


class Showcase(msgspec.Struct, frozen=True, kw_only=True):
    """What a resident can get: the community's active outlets, and offers by category."""

    outlets: list[Outlet]
    categories: list[tuple[str, list[Offer]]]


async def _item(
    conn: ledger.Connection, p: Principal, item_id: int, roles: tuple[str, ...]
) -> Item:
    access.require(p, roles)
    if not isinstance(item_id, int) or not 0 < item_id <= MAX_ID:
        raise NotFound()
    found = await catalog.get_item(conn, item_id)
    if found is None or not (p.is_admin or found["community_id"] == p.community_id):
        raise NotFound()
    return from_row(found, Item)


def _price(value: Any) -> int:
    return whole_number(
        value, 1, 100_000, N_("The price is a whole number of points from 1 to 100,000.")
    )


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    return whole_number(value, 1, 1000, N_("The monthly limit is a whole number from 1 to 1,000."))


def _low(value: Any) -> int:
    return whole_number(
        value, 0, MAX_QUANTITY, N_("The low-stock level is a whole number, 0 or more.")
    )


def _short(value: str | None, n: int) -> str:
    return text.plain(
        value, max_length=n, required=False, empty=N_("Please use at most {n} characters.")
    )


async def create_item(
    db: Database,
    p: Principal,
    slug: str,
    *,
    sku: str,
    name: str,
    kind: str,
    price_points: int,
    unit: str | None = "",
    category: str | None = "",
    monthly_limit: int | None = None,
    low_stock: int = 0,
    donor: str | int | None = None,
    ip: str = "",
) -> Item:
    sku = (sku or "").strip()
    if not SKU.match(sku):
        raise Invalid(
            N_("The item number uses 1 to 64 letters, digits, dots, dashes or underscores.")
        )
    name = text.plain(name, max_length=100)
    if kind not in catalog.ITEM_KINDS:
        raise Invalid(N_("An item is goods or a service."))
    fields: dict[str, Any] = dict(
        sku=sku,
        name=name,
        kind=kind,
        price_points=_price(price_points),
        unit=_short(unit, 20),
        category=_short(category, 40),
        monthly_limit=_limit(monthly_limit),
        low_stock=_low(low_stock),
    )
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        donor_id = await _donor(conn, p, community["id"], donor, ip)
        try:
            made = await catalog.create_item(conn, community["id"], donor_id=donor_id, **fields)
        except catalog.SkuTaken:
            raise AlreadyExists(N_("An item with this number already exists.")) from None
        await audit.record(
            conn,
            p,
            "item.create",
            community_id=community["id"],
            target=f"item:{sku}",
            ip=ip,
            **{k: v for k, v in fields.items() if k != "sku"},
        )
    return from_row(made, Item)


async def list_items(
    db: Database, p: Principal, slug: str, *, active_only: bool = True
) -> list[Item]:
    """The community's items by category and name; residents and volunteers see active ones."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, VIEWERS)
        if p.role not in STAFF_ROLES:
            active_only = True
        found = await catalog.list_items(conn, community["id"], active_only=active_only)
    return [from_row(i, Item) for i in found]


async def get_item(db: Database, p: Principal, item_id: int) -> Item:
    async with db.connection() as conn:
        return await _item(conn, p, item_id, STAFF_ROLES)


async def update_item(
    db: Database,
    p: Principal,
    item_id: int,
    *,
    name: str,
    price_points: int,
    unit: str | None,
    category: str | None,
    monthly_limit: int | None,
    low_stock: int,
    active: bool,
    ip: str = "",
) -> Item:
    """Change an item's name, price, unit, category, monthly limit, low-stock level, active flag."""
    changes: dict[str, Any] = dict(
        name=text.plain(name, max_length=100),
        price_points=_price(price_points),
        unit=_short(unit, 20),
        category=_short(category, 40),
        monthly_limit=_limit(monthly_limit),
        low_stock=_low(low_stock),
        active=bool(active),
    )
    async with db.transaction() as conn:
        item = await _item(conn, p, item_id, STAFF_ROLES)
        changed = {k: v for k, v in changes.items() if getattr(item, k) != v}
        updated = await catalog.update_item(conn, item_id, **changed)
        if changed:
            await audit.record(
                conn,
                p,
                "item.update",
                community_id=item.community_id,
                target=f"item:{item.sku}",
                ip=ip,
                **changed,
            )
    return from_row(updated, Item)


async def set_picture(
    db: Database, p: Principal, item_id: int, data: bytes, *, ip: str = ""
) -> Item:
    """Store an uploaded picture for the item (JPEG, PNG or WebP by content, at most 1 MB)."""
    async with db.connection() as conn:
        await _item(conn, p, item_id, STAFF_ROLES)
    kind = pictures.check(data)
    name = pictures.store(data, kind)
    try:
        async with db.transaction() as conn:
            item = await _item(conn, p, item_id, STAFF_ROLES)
            updated = await catalog.update_item(conn, item_id, picture=name)
            await audit.record(
                conn,
                p,
                "item.picture",
                community_id=item.community_id,
                target=f"item:{item.sku}",
                ip=ip,
                picture=name,
                bytes=len(data),
            )
    except BaseException:
        pictures.remove(name)
        raise
    pictures.remove(item.picture)
    return from_row(updated, Item)


async def browse(db: Database, p: Principal) -> Showcase:
    """What a resident can get in their community: active items by category, each with what is
    on the shelf at each outlet (``None`` for a service, which is always available)."""
    access.require(p, ("resident",))
    community_id = p.community_id
    if community_id is None:
        raise NotFound()
    async with db.connection() as conn:
        found = await catalog.list_outlets(conn, community_id)
        items = await catalog.list_items(conn, community_id)
        levels = await catalog.availability(conn, community_id)
    outlets = [from_row(o, Outlet) for o in found if o["active"]]
    categories: dict[str, list[Offer]] = {}
    for item in items:
        at = levels.get(item["id"], {})
        shelves = []
        if item["kind"] == "goods":
            shelves = [
                Shelf(outlet_id=o.id, outlet=o.name, level=at[o.id]) for o in outlets if o.id in at
            ]
        offer = Offer(**msgspec.structs.asdict(from_row(item, Item)), shelves=shelves)
        categories.setdefault(offer.category, []).append(offer)
    return Showcase(outlets=outlets, categories=list(categories.items()))
