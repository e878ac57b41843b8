"""The counter (兑换台): look a resident up, check out, orders, refunds, hand over reservations,
and the volunteer's shift; a resident's own reservations are in web/api/reservations.py. The
rules live in the ``mall.counter`` package."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.counter import basket, checkout, lookup, orders, refunds, reservations, values
from web.api.callers import RESIDENT, STAFF, USERS, allow
from web.api.fields import MAX_ID, NO_CONTROL, Code, Id, IdempotencyKey
from web.deps import Caller, Db
from web.idempotency import idempotency
from web.session import client_ip

Sku = Annotated[str, Meta(max_length=64, pattern=NO_CONTROL)]


class Line(msgspec.Struct):
    sku: Sku
    quantity: Annotated[int, Meta(ge=1, le=basket.MAX_QUANTITY)]


Lines = Annotated[list[Line], Meta(min_length=1, max_length=basket.MAX_LINES)]


ResidentId = Annotated[int, Meta(ge=1, le=MAX_ID)]


class CounterCode(msgspec.Struct):
    code: Code
    """A pay code (20 digits) or a printed card's code."""
    pin: Code | None = None
    """The card's PIN; not needed for a pay code."""
    on_behalf_of: ResidentId | None = None
    """A proxy (代领) at the counter with their own code: the resident they act for, who named
    them proxy (else `forbidden`)."""


class NewOrder(msgspec.Struct):
    code: Code
    lines: Lines
    """The same SKU twice is one line with the quantities added up."""
    pin: Code | None = None
    on_behalf_of: ResidentId | None = None
    """A proxy (代领) pays with their own code: the resident whose points pay, who named them
    proxy (else `forbidden` and nothing moves)."""


class Placed(msgspec.Struct):
    id: int
    total: int
    balance_after: int
    """The resident's available points right after paying."""


class OrderLine(msgspec.Struct, omit_defaults=True):
    sku: str
    name: str
    quantity: int
    price_points: int
    refunded: int = 0
    """How many of this line were refunded since (orders only; v1.2; left out while none)."""


class OrderRefund(msgspec.Struct):
    """One refund (退款) of an order (v1.2)."""

    id: int
    points: int
    reason: str
    created_at: datetime
    balance_after: int
    """The resident's points right after this refund."""
    lines: list[OrderLine]


class Order(msgspec.Struct):
    id: int
    outlet: int
    resident_id: int
    lines: list[OrderLine]
    total: int
    status: str
    """`completed` or `refunded`."""
    created_at: datetime
    reservation_id: int | None
    """The reservation this order handed over, if any."""
    refunds: list[OrderRefund] = []
    """Its refunds, oldest first (v1.2)."""
    proxy: Person | None = None
    """The proxy (代领) who paid or collected it for the resident, name masked; else null."""


class RefundAsk(msgspec.Struct):
    """What to refund (v1.2); no body at all refunds whatever is left of the order."""

    reason: Annotated[str, Meta(max_length=refunds.MAX_REASON)] = ""
    lines: Annotated[list[Line], Meta(max_length=basket.MAX_LINES)] | None = None
    """Chosen lines; none: everything not refunded yet."""


class Refunded(msgspec.Struct):
    id: int
    status: str
    """Always `refunded`: the refund was given."""
    refund_id: int = 0
    points: int = 0
    """Points this refund gave back (v1.2)."""
    balance_after: int = 0
    """The resident's points right after it (v1.2)."""
    order_status: str = "refunded"
    """`refunded` once every line came back, else `completed` (v1.2)."""


class Person(msgspec.Struct):
    id: int
    display_name: str
    """Partly masked (王*英): enough to recognise at the counter."""


class Limit(msgspec.Struct):
    sku: str
    name: str
    limit: int
    used: int
    """This calendar month (China time), with reservations awaiting pickup."""
    left: int


class Reservation(msgspec.Struct):
    id: int
    outlet: int
    outlet_name: str
    lines: list[OrderLine]
    total: int
    status: str
    """`held`, `collected`, `cancelled` or `lapsed`."""
    created_at: datetime
    expires_at: datetime
    order_id: int | None


class ReservationList(msgspec.Struct):
    reservations: list[Reservation]


class Found(msgspec.Struct):
    resident: Person
    available: int
    held: int
    reservations: list[Reservation]
    """Awaiting pickup at this outlet."""
    limits: list[Limit]
    proxy: Person | None = None
    """With `on_behalf_of`: the proxy at the counter; `resident` is whose points pay."""
    principals: list[Person] = []
    """The residents who named the person at the counter their proxy (代领)."""


class HandedOut(msgspec.Struct):
    name: str
    quantity: int


class Shift(msgspec.Struct):
    since: datetime
    """When this session signed in."""
    orders: int
    """Orders handed out that were not wholly refunded."""
    points: int
    """Their points, net of refunds."""
    items: list[HandedOut]
    refunds: int = 0
    """Refunds of the orders handed out (of chosen lines or whole)."""
    refunded_points: int = 0
    """The points those refunds gave back."""


def reservation(found: values.Reservation) -> Reservation:
    return msgspec.convert(found, Reservation, from_attributes=True)


def pairs(lines: list[Line]) -> list[tuple[str, int]]:
    return [(line.sku, line.quantity) for line in lines]


class CounterController(Controller):
    tags = ["counter"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/outlets/{outlet_id:int}/lookup",
        status_code=200,
        dependencies=allow(*USERS),
        summary="Look a resident up at the counter",
        description=(
            "Volunteers and staff of the outlet's community. `code` is a pay code (not used "
            "up; it stays good for the checkout for ten minutes) or a printed card's code with "
            "its `pin`. Answers with the resident's masked name, available points, monthly "
            "limits and reservations awaiting pickup here. `code_expired`, `code_invalid`, "
            "`code_used`; a printed card waiting for a second staff member's approval is "
            "`card_pending` (409), before its PIN is checked."
        ),
    )
    async def lookup(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        outlet_id: Id,
        data: JSONBody[CounterCode],
    ) -> Found:
        found = await lookup.lookup(
            db,
            p,
            outlet_id,
            data.code,
            data.pin,
            ip=client_ip(request),
            on_behalf_of=data.on_behalf_of,
        )
        return msgspec.convert(found, Found, from_attributes=True)

    @post(
        "/outlets/{outlet_id:int}/orders",
        dependencies=allow(*USERS),
        summary="Check out",
        description=(
            "Volunteers and staff of the outlet's community; needs an `Idempotency-Key`. One "
            "transaction: the pay code is used up, the points leave the wallet, the goods leave "
            "the shelf, the order is recorded; or nothing at all. Errors name the item: "
            "`out_of_stock`, `limit_exceeded`, `insufficient_points` (saying what is "
            "available), `validation_error` (unknown SKU), `code_used`, `code_expired`; a "
            "printed card waiting for approval is `card_pending` (409), and one replaced by a "
            "new card meanwhile `code_invalid`. With `on_behalf_of`, the code is a proxy's own (代领) "
            "and that resident's points pay; without their grant, or with the proxy or that "
            "resident of another community, `forbidden` (the code is not used). A retry "
            "with the same key and body returns the first order, even though its code is used."
        ),
    )
    async def checkout(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        outlet_id: Id,
        data: JSONBody[NewOrder],
        idempotency_key: IdempotencyKey,  # declared for the OpenAPI document; mapped below
    ) -> Placed:
        idem = await idempotency(request, principal=p.label())
        done = await checkout.checkout(
            db,
            p,
            outlet_id,
            code=data.code,
            pin=data.pin,
            lines=pairs(data.lines),
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
            ip=client_ip(request),
            on_behalf_of=data.on_behalf_of,
        )
        return Placed(id=done.id, total=done.total, balance_after=done.balance_after)

    @get(
        "/orders/{order_id:int}",
        dependencies=allow(*USERS, *RESIDENT),
        summary="An order",
        description=(
            "Staff and volunteers of the order's community, and the resident who paid; "
            "anyone else's order is `not_found`."
        ),
    )
    async def order(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, order_id: Id
    ) -> Order:
        found = await orders.get_order(db, p, order_id)
        return msgspec.convert(found, Order, from_attributes=True)

    @post(
        "/orders/{order_id:int}/refund",
        dependencies=allow(*STAFF),
        summary="Refund an order, whole or chosen lines",
        description=(
            "Staff of the order's community, never for their own resident record "
            "(`self_dealing`); needs an `Idempotency-Key`. Without a body: whatever is left of "
            "the order. With `{reason, lines: [{sku, quantity}]}`: those lines, at most what was "
            "bought less what was refunded already (`validation_error` otherwise). The points go "
            "back by a journal of their own and the goods back on the shelf; when nothing is "
            "left to refund: `already_refunded`."
        ),
    )
    async def refund(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        order_id: Id,
        idempotency_key: IdempotencyKey,
        data: JSONBody[RefundAsk | None] = None,
    ) -> Refunded:
        idem = await idempotency(request, principal=p.label())
        ask = data or RefundAsk()
        done = await refunds.refund(
            db,
            p,
            order_id,
            idempotency_key=idem.key,
            ip=client_ip(request),
            reason=ask.reason,
            lines=None if ask.lines is None else pairs(ask.lines),
            req_hash=idem.request_hash,
        )
        return Refunded(
            id=done.id,
            status=done.status,
            refund_id=done.refund_id,
            points=done.points,
            balance_after=done.balance_after,
            order_status=done.order_status,
        )

    @post(
        "/reservations/{reservation_id:int}/collect",
        dependencies=allow(*USERS),
        summary="Hand over a reservation",
        description=(
            "Volunteers and staff of its community, with the resident's pay code (not used up) "
            "or card and PIN; needs an `Idempotency-Key`. Records an order with "
            "`reservation_id`; collecting again returns that order. A printed card waiting "
            "for approval is `card_pending` (409)."
        ),
    )
    async def collect(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        reservation_id: Id,
        data: JSONBody[CounterCode],
        idempotency_key: IdempotencyKey,  # collecting is once per reservation whatever the key
    ) -> Placed:
        done = await reservations.collect(
            db,
            p,
            reservation_id,
            code=data.code,
            pin=data.pin,
            ip=client_ip(request),
            on_behalf_of=data.on_behalf_of,
        )
        return Placed(id=done.id, total=done.total, balance_after=done.balance_after)

    @get(
        "/me/shift",
        dependencies=allow(*USERS),
        summary="My shift at the counter",
        description="Orders, points and items I handed out since I signed in, for the hand-over.",
    )
    async def shift(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> Shift:
        found = await orders.shift_summary(db, p)
        return msgspec.convert(found, Shift, from_attributes=True)


ROUTES: list[ControllerRouterHandler] = [CounterController]
