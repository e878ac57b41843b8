"""The points supermarket's shelves (积分商城): outlets, donors, items and stock, scoped by who asks.

Staff (and street administrators) run the catalog and the stock of their own community;
volunteers and residents of the community may look at it. Everyone else hears ``not_found`` for an
outlet or item (never a hint that it exists) and ``forbidden`` for a community. Every write is
audited. Services (理发, 家电维修) are not stocked: they have no level and are always available.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import catalog
import ledger
from mall import access, text
from mall.access import MAX_ID, STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, AlreadyExists, Invalid, NotFound, OutOfStock
from mall.org import points
from mall.shop import pictures

VIEWERS = STAFF_ROLES + ("volunteer", "resident")
STOCK_REASONS = ("receipt", "donation", "stocktake", "adjustment")
MAX_QUANTITY = 100_000
SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


@dataclass(frozen=True)
class Change:
    """One line of a stocktake: what the shelf held, what was counted, the correction posted."""

    sku: str
    name: str
    unit: str
    before: int
    counted: int

    @property
    def difference(self) -> int:
        return self.counted - self.before


# --- scope -----------------------------------------------------------------------------------


async def _outlet(
    conn: ledger.Connection, p: Principal, outlet_id: int, roles: tuple[str, ...]
) -> dict[str, Any]:
    """The outlet, if ``p`` has one of ``roles`` in its community; anyone else's is not found."""
    access.require(p, roles)
    if not isinstance(outlet_id, int) or not 0 < outlet_id <= MAX_ID:
        raise NotFound()
    outlet = await catalog.get_outlet(conn, outlet_id)
    if outlet is None or not (p.is_admin or outlet["community_id"] == p.community_id):
        raise NotFound()
    return outlet


async def _item(
    conn: ledger.Connection, p: Principal, item_id: int, roles: tuple[str, ...]
) -> dict[str, Any]:
    access.require(p, roles)
    if not isinstance(item_id, int) or not 0 < item_id <= MAX_ID:
        raise NotFound()
    item = await catalog.get_item(conn, item_id)
    if item is None or not (p.is_admin or item["community_id"] == p.community_id):
        raise NotFound()
    return item


# --- checks of what people type ----------------------------------------------------------------


def _whole(value: Any, least: int, most: int, message: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not least <= value <= most:
        raise Invalid(message)
    return value


def _price(value: Any) -> int:
    return _whole(value, 1, 100_000, N_("The price is a whole number of points from 1 to 100,000."))


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    return _whole(value, 1, 1000, N_("The monthly limit is a whole number from 1 to 1,000."))


def _low(value: Any) -> int:
    return _whole(value, 0, MAX_QUANTITY, N_("The low-stock level is a whole number, 0 or more."))


def _memo(value: str | None) -> str:
    return text.plain(
        value,
        max_length=200,
        required=False,
        empty=N_("Please keep the note to at most {n} characters."),
    )


def _short(value: str | None, n: int) -> str:
    return text.plain(
        value, max_length=n, required=False, empty=N_("Please use at most {n} characters.")
    )


# --- outlets and donors ----------------------------------------------------------------------------


async def create_outlet(
    db: Database, p: Principal, slug: str, name: str, kind: str, *, ip: str = ""
) -> dict[str, Any]:
    """Open an outlet and its ``redeemed`` accounts in the community's book."""
    name = text.plain(name, max_length=100)
    if kind not in catalog.OUTLET_KINDS:
        raise Invalid(N_("An outlet is a points supermarket or a partner merchant."))
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        outlet = await catalog.create_outlet(conn, community["id"], name, kind)
        await points.open_outlet_accounts(conn, community["book"], outlet["id"])
        await audit.record(
            conn,
            p,
            "outlet.create",
            community_id=community["id"],
            target=f"outlet:{outlet['id']}",
            ip=ip,
            name=name,
            kind=kind,
        )
    return outlet


async def list_outlets(db: Database, p: Principal, slug: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, VIEWERS)
        return await catalog.list_outlets(conn, community["id"])


async def get_outlet(db: Database, p: Principal, outlet_id: int) -> dict[str, Any]:
    async with db.connection() as conn:
        return await _outlet(conn, p, outlet_id, VIEWERS)


async def create_donor(
    db: Database, p: Principal, slug: str, name: str, kind: str, *, ip: str = ""
) -> dict[str, Any]:
    name = text.plain(name, max_length=100)
    if kind not in catalog.DONOR_KINDS:
        raise Invalid(N_("A donor is a partner unit or a merchant."))
    async with db.transaction() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        if await catalog.find_donor(conn, community["id"], name):
            raise AlreadyExists(N_("A donor with this name already exists."))
        donor = await catalog.create_donor(conn, community["id"], name, kind)
        await audit.record(
            conn,
            p,
            "donor.create",
            community_id=community["id"],
            target=f"donor:{donor['id']}",
            ip=ip,
            name=name,
            kind=kind,
        )
    return donor


async def list_donors(db: Database, p: Principal, slug: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES)
        return await catalog.list_donors(conn, community["id"])


async def outlet_donors(db: Database, p: Principal, outlet_id: int) -> list[dict[str, Any]]:
    """The donors of the outlet's community, for its donation form."""
    async with db.connection() as conn:
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        return await catalog.list_donors(conn, outlet["community_id"])


async def _donor(
    conn: ledger.Connection, p: Principal, community_id: int, donor: str | int | None, ip: str
) -> int | None:
    """A donor named by id or by name; a new name is recorded as a partner unit."""
    if donor is None or donor == "":
        return None
    if isinstance(donor, int) and not isinstance(donor, bool):
        found = await catalog.get_donor(conn, donor) if 0 < donor <= MAX_ID else None
        if found is None or found["community_id"] != community_id:
            raise Invalid(N_("No such donor in this community."))
        return int(found["id"])
    if not isinstance(donor, str):
        raise Invalid(N_("No such donor in this community."))
    name = text.plain(donor, max_length=100)
    found = await catalog.find_donor(conn, community_id, name)
    if found is None:
        found = await catalog.create_donor(conn, community_id, name, "unit")
        await audit.record(
            conn,
            p,
            "donor.create",
            community_id=community_id,
            target=f"donor:{found['id']}",
            ip=ip,
            name=name,
            kind="unit",
        )
    return int(found["id"])


# --- items -----------------------------------------------------------------------------------------


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
) -> dict[str, Any]:
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
            item = await catalog.create_item(conn, community["id"], donor_id=donor_id, **fields)
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
    return item


async def list_items(
    db: Database, p: Principal, slug: str, *, active_only: bool = True
) -> list[dict[str, Any]]:
    """The community's items by category and name; residents and volunteers see active ones."""
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, VIEWERS)
        if p.role not in STAFF_ROLES:
            active_only = True
        return await catalog.list_items(conn, community["id"], active_only=active_only)


async def get_item(db: Database, p: Principal, item_id: int) -> dict[str, Any]:
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
) -> dict[str, Any]:
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
        changed = {k: v for k, v in changes.items() if item[k] != v}
        updated = await catalog.update_item(conn, item_id, **changed)
        if changed:
            await audit.record(
                conn,
                p,
                "item.update",
                community_id=item["community_id"],
                target=f"item:{item['sku']}",
                ip=ip,
                **changed,
            )
    return updated


async def set_picture(
    db: Database, p: Principal, item_id: int, data: bytes, *, ip: str = ""
) -> dict[str, Any]:
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
                community_id=item["community_id"],
                target=f"item:{item['sku']}",
                ip=ip,
                picture=name,
                bytes=len(data),
            )
    except BaseException:
        pictures.remove(name)
        raise
    pictures.remove(item["picture"])
    return updated


# --- stock -------------------------------------------------------------------------------------------


async def outlet_stock(
    db: Database, p: Principal, outlet_id: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The outlet and its goods with their levels (``low`` marks those at or below threshold)."""
    async with db.connection() as conn:
        outlet = await _outlet(conn, p, outlet_id, VIEWERS)
        return outlet, await catalog.stock_list(conn, outlet_id)


async def _goods(conn: ledger.Connection, community_id: int, sku: str) -> dict[str, Any]:
    item = await catalog.get_item_by_sku(conn, community_id, (sku or "").strip())
    if item is None:
        raise Invalid(N_("No item with this number in the catalog."))
    if item["kind"] != "goods":
        raise Invalid(N_("{name} is a service: services have no stock."), name=item["name"])
    return item


async def change_stock(
    db: Database,
    p: Principal,
    outlet_id: int,
    *,
    sku: str,
    quantity: int,
    reason: str,
    donor: str | int | None = None,
    memo: str | None = "",
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> dict[str, Any]:
    """Receive goods (进货), record a donation (捐赠) with its donor, count a shelf (盘点: the
    counted level; the difference is posted) or adjust (signed, with a note saying why).

    Returns ``{sku, name, level, moved}``; the same key and request return the first answer.
    """
    if reason not in STOCK_REASONS:
        raise Invalid(N_("Choose receipt, donation, stocktake or adjustment."))
    memo = _memo(memo)
    if reason == "stocktake":
        _whole(quantity, 0, MAX_QUANTITY, N_("The counted quantity is a whole number, 0 or more."))
    elif reason == "adjustment":
        _whole(
            quantity,
            -MAX_QUANTITY,
            MAX_QUANTITY,
            N_("An adjustment is a whole number, not 0 (negative to take away)."),
        )
        if quantity == 0:
            raise Invalid(N_("An adjustment is a whole number, not 0 (negative to take away)."))
        if not memo:
            raise Invalid(N_("Please write why the stock is adjusted."))
    else:
        _whole(quantity, 1, MAX_QUANTITY, N_("The quantity is a whole number from 1 to 100,000."))
    if reason == "donation" and (donor is None or donor == ""):
        raise Invalid(N_("Please name who donated the goods."))
    async with db.transaction() as conn:
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        item = await _goods(conn, outlet["community_id"], sku)
        donor_id = (
            await _donor(conn, p, outlet["community_id"], donor, ip)
            if reason == "donation"
            else None
        )
        amount = quantity
        if reason == "stocktake":
            amount = quantity - await _level(conn, outlet_id, item["id"])
        moved: catalog.Movement | None = None
        if amount:
            try:
                moved = await catalog.move_stock(
                    conn,
                    outlet_id,
                    item["id"],
                    amount,
                    reason,
                    donor_id=donor_id,
                    memo=memo,
                    user_id=p.user_id,
                    idempotency_key=idempotency_key,
                    request_hash=req_hash,
                )
            except catalog.OutOfStock as exc:
                raise OutOfStock(
                    N_("{name}: only {level} left."), name=exc.name, level=exc.level
                ) from None
        elif reason == "stocktake":
            first = await conn.fetchrow(
                "SELECT id, quantity, level_after, request_hash FROM catalog_stock_movement"
                " WHERE outlet = ? AND idempotency_key = ?",
                outlet_id,
                idempotency_key,
            )
            if first is not None:
                moved = await catalog.move_stock(
                    conn,
                    outlet_id,
                    item["id"],
                    first["quantity"],
                    reason,
                    idempotency_key=idempotency_key,
                    request_hash=req_hash,
                )
        if moved is not None and not moved.replayed:
            await audit.record(
                conn,
                p,
                f"stock.{reason}",
                community_id=outlet["community_id"],
                target=f"outlet:{outlet_id}",
                ip=ip,
                sku=item["sku"],
                quantity=amount,
                level=moved.level_after,
                donor=donor_id,
                memo=memo,
            )
        level = moved.level_after if moved else await _level(conn, outlet_id, item["id"])
    return {
        "sku": item["sku"],
        "name": item["name"],
        "unit": item["unit"],
        "level": level,
        "moved": moved.quantity if moved else 0,
        "replayed": bool(moved and moved.replayed),
    }


async def _level(conn: ledger.Connection, outlet_id: int, item_id: int) -> int:
    lock = " FOR UPDATE" if conn.dialect == "postgres" else ""
    level = await conn.fetchval(
        f"SELECT level FROM catalog_stock_level WHERE outlet = ? AND item = ?{lock}",
        outlet_id,
        item_id,
    )
    return int(level or 0)


async def stocktake(
    db: Database,
    p: Principal,
    outlet_id: int,
    counts: dict[str, int],
    memo: str | None = "",
    *,
    idempotency_key: str,
    req_hash: str | None = None,
    ip: str = "",
) -> list[Change]:
    """Count the shelves (盘点): for each SKU counted, post ``counted - level`` as a correction,
    all in one transaction. Returns the lines that changed (a replay returns the first ones)."""
    memo = _memo(memo)
    for counted in counts.values():
        _whole(counted, 0, MAX_QUANTITY, N_("A counted quantity is a whole number, 0 or more."))
    async with db.transaction() as conn:
        outlet = await _outlet(conn, p, outlet_id, STAFF_ROLES)
        by_id: dict[int, dict[str, Any]] = {}
        for sku in counts:
            item = await _goods(conn, outlet["community_id"], sku)
            by_id[item["id"]] = item
        moved = await catalog.stocktake(
            conn,
            outlet_id,
            {item["id"]: counts[item["sku"]] for item in by_id.values()},
            p.user_id,
            memo,
            idempotency_key=idempotency_key,
            request_hash=req_hash,
        )
        changes = [
            Change(
                sku=by_id[m.item_id]["sku"],
                name=by_id[m.item_id]["name"],
                unit=by_id[m.item_id]["unit"],
                before=m.level_after - m.quantity,
                counted=m.level_after,
            )
            for m in moved
            if m.item_id in by_id
        ]
        if moved and not moved[0].replayed:
            await audit.record(
                conn,
                p,
                "stock.stocktake",
                community_id=outlet["community_id"],
                target=f"outlet:{outlet_id}",
                ip=ip,
                counted=len(counts),
                changed={c.sku: c.difference for c in changes},
                memo=memo,
            )
    return sorted(changes, key=lambda c: c.sku)


async def low_stock(db: Database, p: Principal, slug: str) -> list[dict[str, Any]]:
    async with db.connection() as conn:
        community = await access.community(conn, p, slug, STAFF_ROLES + ("volunteer",))
        return await catalog.low_stock(conn, community["id"])


async def history(
    db: Database, p: Principal, outlet_id: int, limit: int = 30
) -> list[dict[str, Any]]:
    """The outlet's latest stock movements, newest first, with the item and donor names."""
    async with db.connection() as conn:
        await _outlet(conn, p, outlet_id, STAFF_ROLES)
        rows = await conn.fetch(
            "SELECT m.id, m.at, m.quantity, m.reason, m.level_after, m.memo, m.reference,"
            " i.sku, i.name, i.unit, d.name AS donor FROM catalog_stock_movement m"
            " JOIN catalog_item i ON i.id = m.item LEFT JOIN catalog_donor d ON d.id = m.donor"
            " WHERE m.outlet = ? ORDER BY m.id DESC LIMIT ?",
            outlet_id,
            max(1, min(limit, 200)),
        )
    return [dict(r) for r in rows]


# --- residents' shop ----------------------------------------------------------------------------


async def browse(db: Database, p: Principal) -> dict[str, Any]:
    """What a resident can get in their community: active items by category, each with what is
    on the shelf at each outlet (``None`` for a service, which is always available)."""
    access.require(p, ("resident",))
    community_id = p.community_id
    if community_id is None:
        raise NotFound()
    async with db.connection() as conn:
        outlets = [o for o in await catalog.list_outlets(conn, community_id) if o["active"]]
        items = await catalog.list_items(conn, community_id)
        levels = await catalog.availability(conn, community_id)
    categories: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        at = levels.get(item["id"], {})
        shelves = []
        if item["kind"] == "goods":
            shelves = [
                {"outlet_id": o["id"], "outlet": o["name"], "level": at[o["id"]]}
                for o in outlets
                if o["id"] in at
            ]
        categories.setdefault(item["category"], []).append({**item, "shelves": shelves})
    return {"outlets": outlets, "categories": list(categories.items())}


async def stocktake_result(db: Database, p: Principal, outlet_id: int, key: str) -> list[Change]:
    """The corrections one stocktake (by its idempotency key) posted, for the page after it."""
    async with db.connection() as conn:
        await _outlet(conn, p, outlet_id, STAFF_ROLES)
        rows = await conn.fetch(
            "SELECT m.quantity, m.level_after, i.sku, i.name, i.unit"
            " FROM catalog_stock_movement m JOIN catalog_item i ON i.id = m.item"
            " WHERE m.outlet = ? AND m.idempotency_key LIKE ? ESCAPE '!' ORDER BY i.sku",
            outlet_id,
            re.sub(r"([!%_])", r"!\1", key) + ":%",
        )
    return [
        Change(
            sku=r["sku"],
            name=r["name"],
            unit=r["unit"],
            before=r["level_after"] - r["quantity"],
            counted=r["level_after"],
        )
        for r in rows
    ]
