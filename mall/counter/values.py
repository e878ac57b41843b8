"""What the counter's services hand back that more than one of its modules returns: a receipt, an
order and a reservation, with their lines. Plain values, no queries.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

OrderStatus = Literal["completed", "refunded"]

ReservationStatus = Literal["held", "collected", "cancelled", "lapsed"]

ItemKind = Literal["goods", "service"]


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One line of an order or a reservation, at the price it was exchanged for."""

    sku: str
    name: str
    quantity: int
    price_points: int
    refunded: int = 0
    """How many of it were refunded since (orders only)."""


class Refunded(msgspec.Struct, frozen=True, kw_only=True):
    """One refund (退款) of an order: the lines given back, why, and the wallet's balance after."""

    id: int
    points: int
    reason: str
    created_at: datetime
    balance_after: int
    lines: list[Line]


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What a checkout or a collected reservation answers with (the counter's hot path: built
    directly from the values at hand, never converted)."""

    id: int
    total: int
    balance_after: int
    """The resident's available points right after paying."""
    replayed: bool
    """True when a retry with the same key was answered with the first order."""


class Proxy(msgspec.Struct, frozen=True, kw_only=True):
    """The proxy (代领) who paid or collected an order for its resident with their own code."""

    id: int
    display_name: str
    """Partly masked (王*芳), as the counter shows names."""


class Order(msgspec.Struct, frozen=True, kw_only=True):
    """An order with its lines, and the wallet's balance right after it was paid."""

    id: int
    outlet: int
    outlet_name: str
    resident_id: int
    lines: list[Line]
    total: int
    status: OrderStatus
    created_at: datetime
    balance_after: int
    """The wallet's available points right after it was paid (or a reservation collected)."""
    reservation_id: int | None
    """The reservation this order handed over, if any."""
    refunds: list[Refunded] = []
    """Its refunds, oldest first."""
    resident_name: str = ""
    """Whose points paid, partly masked (张*明)."""
    proxy: Proxy | None = None
    """Who paid or collected it for the resident (代领), if not the resident themselves."""


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """Goods set aside for a resident at an outlet, and what became of them."""

    id: int
    outlet: int
    outlet_name: str
    total: int
    status: ReservationStatus
    created_at: datetime
    expires_at: datetime
    order_id: int | None
    """The order that handed it over, once collected."""
    lines: list[Line]
    replayed: bool = False
    """True when ``reserve`` answered a retry with the reservation it made the first time."""
