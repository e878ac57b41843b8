"""The catalog's tables: outlets, donors, items, stock levels and stock movements.

The catalog knows nothing of residents or points balances: a community is only an id here.
Stock movements are append-only; only a level's cached quantity and version ever change.
"""

from piccolo.columns import (
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table


class Outlet(Table, tablename="catalog_outlet"):
    """积分超市 / 兑换点: a community's points supermarket or a partner merchant (红色合伙人)."""

    id = Serial(primary_key=True)
    community_id = Integer(null=False, index=True)
    name = Varchar(length=200, null=False)
    kind = Varchar(length=20, null=False)  # supermarket | partner
    active = Boolean(default=True, null=False)
    created_at = Timestamptz(null=False)


class Donor(Table, tablename="catalog_donor"):
    """双报到单位 / 共建单位 or a merchant that gives goods; thanked on the notice board."""

    id = Serial(primary_key=True)
    community_id = Integer(null=False, index=True)
    name = Varchar(length=200, null=False)
    kind = Varchar(length=20, null=False)  # unit | merchant
    created_at = Timestamptz(null=False)


class Item(Table, tablename="catalog_item"):
    """Goods or a service priced in points; ``sku`` unique within its community (migration)."""

    id = Serial(primary_key=True)
    community_id = Integer(null=False, index=True)
    sku = Varchar(length=64, null=False)
    name = Varchar(length=200, null=False)
    kind = Varchar(length=20, null=False)  # goods | service
    price_points = Integer(null=False)
    unit = Varchar(length=20, default="", null=False)
    category = Varchar(length=40, default="", null=False)
    picture = Varchar(length=200, null=True, default=None)
    monthly_limit = Integer(null=True, default=None)  # 限兑: per resident per calendar month
    low_stock = Integer(default=0, null=False)  # list the item as low at or below this level
    donor = ForeignKey(Donor, on_delete=OnDelete.restrict, null=True, default=None)
    active = Boolean(default=True, null=False)
    created_at = Timestamptz(null=False)


class StockLevel(Table, tablename="catalog_stock_level"):
    """The cached level of one item at one outlet; unique per (outlet, item) (migration)."""

    id = Serial(primary_key=True)
    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    level = Integer(default=0, null=False)
    version = Integer(default=0, null=False)


class StockMovement(Table, tablename="catalog_stock_movement"):
    """One signed change of a level: receipt, donation, redemption, refund, reservation,
    release, stocktake correction or adjustment. ``level_after`` lets verify check each step."""

    id = BigSerial(primary_key=True)

    outlet = ForeignKey(Outlet, on_delete=OnDelete.restrict, null=False, index=True)
    item = ForeignKey(Item, on_delete=OnDelete.restrict, null=False, index=True)
    quantity = Integer(null=False)  # signed, never zero
    reason = Varchar(length=20, null=False)
    reference = Varchar(length=100, default="", null=False)  # e.g. "order:12"
    donor = ForeignKey(Donor, on_delete=OnDelete.restrict, null=True, default=None)
    memo = Text(default="", null=False)
    version = Integer(null=False)
    level_after = Integer(null=False)
    idempotency_key = Varchar(length=200, null=True, default=None)
    request_hash = Varchar(length=64, null=True, default=None)
    user_id = Integer(null=True, default=None)
    at = Timestamptz(null=False)
