"""The shelves' records as staff and residents see them: outlets, donors and items, shared by
``outlets``, ``items`` and ``stock``. Read from the ``catalog`` core's rows (``from_row``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

import msgspec

T = TypeVar("T")


class Outlet(msgspec.Struct, frozen=True, kw_only=True):
    """An outlet (兑换点): the community's points supermarket or a partner merchant."""

    id: int
    community_id: int
    name: str
    kind: Literal["supermarket", "partner"]
    active: bool
    created_at: datetime


class Donor(msgspec.Struct, frozen=True, kw_only=True):
    """A donor: a partner unit (双报到/共建单位) or a merchant that gives goods."""

    id: int
    community_id: int
    name: str
    kind: Literal["unit", "merchant"]
    created_at: datetime


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """Goods or a service priced in points; ``monthly_limit`` (限兑) per resident, or none."""

    id: int
    community_id: int
    sku: str
    name: str
    kind: Literal["goods", "service"]
    price_points: int
    unit: str
    category: str
    picture: str | None
    monthly_limit: int | None
    low_stock: int
    donor_id: int | None
    active: bool
    created_at: datetime


def from_row(row: Mapping[str, Any], kind: type[T]) -> T:
    """The record ``kind`` made of a row of the catalog (its other columns are left out)."""
    return msgspec.convert(dict(row), kind)
