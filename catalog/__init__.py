"""The catalog and stock (商品与库存): outlets, items, donors, stock levels and movements.

It knows nothing of residents or points: a community is an id. Every function takes a
connection already inside a transaction (see ``ledger.connection``'s protocol, shared here).
Services (kind ``"service"``) are not stocked: they have no level, are always available, and
``move_stock`` is only ever called for goods.
"""

from catalog.donors import DonorGifts, Gift, donor_gifts
from catalog.errors import (
    CatalogError,
    InvalidItem,
    InvalidMovement,
    ItemNotFound,
    MovementKeyReused,
    OutletNotFound,
    OutOfStock,
    SkuTaken,
)
from catalog.items import (
    ITEM_KINDS,
    availability,
    create_item,
    get_item,
    get_item_by_sku,
    list_items,
    low_stock,
    require_item,
    stock_list,
    update_item,
)
from catalog.outlets import (
    DONOR_KINDS,
    OUTLET_KINDS,
    create_donor,
    create_outlet,
    find_donor,
    get_donor,
    get_outlet,
    list_donors,
    list_outlets,
    require_outlet,
)
from catalog.reading import MovementLine, movements, stock_value
from catalog.stock import REASONS, Movement, move_stock, stock_level, stocktake
from catalog.verify import StockReport, verify_stock

__all__ = [
    "DONOR_KINDS",
    "ITEM_KINDS",
    "OUTLET_KINDS",
    "REASONS",
    "CatalogError",
    "DonorGifts",
    "Gift",
    "InvalidItem",
    "InvalidMovement",
    "ItemNotFound",
    "Movement",
    "MovementLine",
    "MovementKeyReused",
    "OutOfStock",
    "OutletNotFound",
    "SkuTaken",
    "StockReport",
    "availability",
    "create_donor",
    "donor_gifts",
    "create_item",
    "create_outlet",
    "find_donor",
    "get_donor",
    "get_item",
    "get_item_by_sku",
    "get_outlet",
    "list_donors",
    "list_items",
    "list_outlets",
    "low_stock",
    "move_stock",
    "movements",
    "require_item",
    "require_outlet",
    "stock_level",
    "stock_list",
    "stock_value",
    "stocktake",
    "update_item",
    "verify_stock",
]
