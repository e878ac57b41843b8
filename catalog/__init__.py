"""The catalog and stock (商品与库存): outlets, items, donors, stock levels and movements.

It knows nothing of residents or points: a community is an id. Every function takes a
connection already inside a transaction (see ``ledger.connection``'s protocol, shared here).
"""

from catalog.errors import (
    CatalogError,
    InvalidMovement,
    ItemNotFound,
    MovementKeyReused,
    OutletNotFound,
    OutOfStock,
)
from catalog.stock import REASONS, Movement, move_stock, stock_level

__all__ = [
    "REASONS",
    "CatalogError",
    "InvalidMovement",
    "ItemNotFound",
    "Movement",
    "MovementKeyReused",
    "OutOfStock",
    "OutletNotFound",
    "move_stock",
    "stock_level",
]
