"""The catalog and stock (商品与库存): outlets, donors, items, stock levels, receipts and counts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.shop import items, outlets, stock, values
from web.api.callers import SIGNED_IN, STAFF, USERS, allow
from web.api.fields import NO_CONTROL, Id, IdempotencyKey, Name, Slug
from web.deps import Caller, Db
from web.idempotency import idempotency
from web.session import client_ip

Sku = Annotated[str, Meta(max_length=64, pattern=NO_CONTROL)]
Short = Annotated[str, Meta(max_length=40, pattern=NO_CONTROL)]


class NewOutlet(msgspec.Struct):
    name: Name
    kind: Literal["supermarket", "partner"]


class Outlet(msgspec.Struct):
    id: int
    name: str
    kind: str
    active: bool


class OutletList(msgspec.Struct):
    outlets: list[Outlet]


class NewDonor(msgspec.Struct):
    name: Name
    kind: Literal["unit", "merchant"]
    """`unit`: a 双报到 / 共建 unit; `merchant`: a shop that gives goods."""


class Donor(msgspec.Struct):
    id: int
    name: str
    kind: str


class DonorList(msgspec.Struct):
    donors: list[Donor]


class NewItem(msgspec.Struct):
    sku: Sku
    name: Name
    kind: Literal["goods", "service"]
    price_points: int
    """Greater than 0."""
    unit: Short = ""
    monthly_limit: int | None = None
    """How many one resident may get per calendar month; null for no limit."""
    category: Short = ""
    low_stock: int = 0
    """Listed as low at or below this level."""
    donor: Name | int | None = None
    """A donor's id, or a name (recorded as a new partner unit if unknown)."""


class Item(msgspec.Struct):
    id: int
    sku: str
    name: str
    kind: str
    price_points: int
    unit: str
    category: str
    monthly_limit: int | None
    low_stock: int
    active: bool
    picture: str | None
    """The picture's path under the site, or null."""


class ItemList(msgspec.Struct):
    items: list[Item]


class StockChange(msgspec.Struct):
    sku: Sku
    quantity: int
    """receipt, donation: how many came in (> 0); adjustment: signed, not 0; stocktake: the
    counted level (the difference is posted)."""
    reason: Literal["receipt", "donation", "stocktake", "adjustment"]
    donor: Name | int | None = None
    """Required for a donation: a donor's id or name."""
    memo: Name = ""
    """Required for an adjustment."""


class StockLevel(msgspec.Struct):
    sku: str
    level: int


class Shelf(msgspec.Struct):
    sku: str
    name: str
    price_points: int
    level: int
    kind: str
    unit: str
    category: str
    low: bool


class Stock(msgspec.Struct):
    items: list[Shelf]


class LowItem(msgspec.Struct):
    outlet_id: int
    outlet: str
    sku: str
    name: str
    level: int
    low_stock: int


class LowStock(msgspec.Struct):
    items: list[LowItem]


def item(found: values.Item) -> Item:
    picture = f"/pictures/{found.picture}" if found.picture else None
    return msgspec.structs.replace(
        msgspec.convert(found, Item, from_attributes=True), picture=picture
    )


class CatalogController(Controller):
    tags = ["catalog"]

    @post(
        "/communities/{slug:str}/outlets",
        dependencies=allow(*STAFF),
        summary="Open an outlet",
        description=(
            "Staff of the community and administrators: a points supermarket or a partner "
            "merchant; its `redeemed` account is opened in the community's book."
        ),
    )
    async def create_outlet(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewOutlet],
    ) -> Outlet:
        made = await outlets.create_outlet(
            db,
            p,
            slug,
            data.name,
            data.kind,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Outlet, from_attributes=True)

    @get(
        "/communities/{slug:str}/outlets",
        dependencies=SIGNED_IN,
        summary="A community's outlets",
        description="Staff, volunteers and residents of the community, and administrators.",
    )
    async def outlets(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> OutletList:
        found = await outlets.list_outlets(db, p, slug)
        return OutletList(outlets=[msgspec.convert(o, Outlet, from_attributes=True) for o in found])

    @post(
        "/communities/{slug:str}/donors",
        dependencies=allow(*STAFF),
        summary="Record a donor",
        description="Staff of the community and administrators; a name already recorded is "
        "`already_exists`.",
    )
    async def create_donor(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewDonor],
    ) -> Donor:
        made = await outlets.create_donor(
            db,
            p,
            slug,
            data.name,
            data.kind,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Donor, from_attributes=True)

    @get(
        "/communities/{slug:str}/donors",
        dependencies=allow(*STAFF),
        summary="A community's donors",
        description="Staff of the community and administrators.",
    )
    async def donors(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> DonorList:
        found = await outlets.list_donors(db, p, slug)
        return DonorList(donors=[msgspec.convert(d, Donor, from_attributes=True) for d in found])

    @post(
        "/communities/{slug:str}/items",
        dependencies=allow(*STAFF),
        summary="Add an item to the catalog",
        description=(
            "Staff of the community and administrators. A SKU already in the community's "
            "catalog is `already_exists`. Services (`kind: service`) are never stocked."
        ),
    )
    async def create_item(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewItem],
    ) -> Item:
        made = await items.create_item(
            db,
            p,
            slug,
            sku=data.sku,
            name=data.name,
            kind=data.kind,
            price_points=data.price_points,
            unit=data.unit,
            category=data.category,
            monthly_limit=data.monthly_limit,
            low_stock=data.low_stock,
            donor=data.donor,
            ip=client_ip(request),
        )
        return item(made)

    @get(
        "/communities/{slug:str}/items",
        dependencies=SIGNED_IN,
        summary="A community's catalog",
        description=(
            "Staff, volunteers and residents of the community, and administrators: active "
            "items by category and name."
        ),
    )
    async def items(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> ItemList:
        found = await items.list_items(db, p, slug)
        return ItemList(items=[item(i) for i in found])

    @get(
        "/communities/{slug:str}/low-stock",
        dependencies=allow(*USERS),
        summary="Goods running low",
        description=(
            "Staff and volunteers of the community, and administrators: goods at or below "
            "their low-stock level at each outlet (or empty), lowest first."
        ),
    )
    async def low_stock(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> LowStock:
        found = await stock.low_stock(db, p, slug)
        return LowStock(items=[msgspec.convert(r, LowItem, from_attributes=True) for r in found])

    @post(
        "/outlets/{outlet_id:int}/stock",
        dependencies=allow(*STAFF),
        summary="Receive, donate, count or adjust stock",
        description=(
            "Staff of the outlet's community and administrators; needs an `Idempotency-Key`. "
            "`receipt` and `donation` add `quantity` (> 0; a donation names its `donor`); "
            "`adjustment` adds a signed `quantity` with a `memo` saying why; `stocktake` "
            "takes the counted level and posts the difference (none if equal). Services are "
            "not stocked (`validation_error`). The same key and body return the first answer."
        ),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        outlet_id: Id,
        data: JSONBody[StockChange],
        idempotency_key: IdempotencyKey,  # declared for the OpenAPI document; mapped below
    ) -> StockLevel:
        idem = await idempotency(request, principal=p.label())
        made = await stock.change_stock(
            db,
            p,
            outlet_id,
            sku=data.sku,
            quantity=data.quantity,
            reason=data.reason,
            donor=data.donor,
            memo=data.memo,
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
            ip=client_ip(request),
        )
        return StockLevel(sku=made.sku, level=made.level)

    @get(
        "/outlets/{outlet_id:int}/stock",
        dependencies=SIGNED_IN,
        summary="What an outlet holds",
        description=(
            "Staff, volunteers and residents of the outlet's community, and administrators: "
            "the community's active goods with their level here. Services are left out: "
            "they have no stock and are always available."
        ),
    )
    async def stock(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, outlet_id: Id
    ) -> Stock:
        found = await stock.outlet_stock(db, p, outlet_id)
        return Stock(items=[msgspec.convert(r, Shelf, from_attributes=True) for r in found.goods])


ROUTES: list[ControllerRouterHandler] = [CatalogController]
