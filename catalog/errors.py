"""The catalog's errors. The web layer maps each to an API error code in one place.

CatalogError
 ├── InvalidMovement        the request itself is wrong (zero quantity, unknown reason, ...)
 ├── InvalidItem            an outlet, donor or item with a wrong field (kind, price, SKU, ...)
 ├── SkuTaken               the SKU is already in the community's catalog
 ├── ItemNotFound
 ├── OutletNotFound
 ├── OutOfStock             a level would go below zero; says what is left
 └── MovementKeyReused      the idempotency key was used before with a different request
"""

from __future__ import annotations


class CatalogError(Exception):
    """Base of every error the catalog raises on purpose."""


class InvalidMovement(CatalogError):
    pass


class ItemNotFound(CatalogError):
    def __init__(self, what: object) -> None:
        super().__init__(f"no item {what!r}")
        self.what = what


class OutletNotFound(CatalogError):
    def __init__(self, what: object) -> None:
        super().__init__(f"no outlet {what!r}")
        self.what = what


class OutOfStock(CatalogError):
    def __init__(self, item_id: int, name: str, level: int, wanted: int) -> None:
        super().__init__(f"{name}: {level} left, {wanted} wanted")
        self.item_id, self.name, self.level, self.wanted = item_id, name, level, wanted


class MovementKeyReused(CatalogError):
    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was used with a different request")
        self.key = key


class InvalidItem(CatalogError):
    """An outlet, donor or item with a wrong field (kind, price, SKU, name, ...)."""


class SkuTaken(CatalogError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"sku {sku!r} is already in the catalog")
        self.sku = sku
