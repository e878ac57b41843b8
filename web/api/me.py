"""The signed-in resident's own account: balance, pay code, passbook and orders (我的)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.params import QueryParameter

from mall.counter import my_orders
from mall.earning import expiry
from mall.people import credentials, offline_codes, passbooks, residents
from web.api.callers import RESIDENT, allow
from web.api.fields import Before, Limit
from web.api.residents import Passbook, Resident, passbook, resident
from web.deps import Caller, Db
from web.session import own_resident_id


class PayCode(msgspec.Struct):
    code: str
    """20 digits: show as a QR code, with the digits for typing."""
    expires_at: datetime


class OfflineCode(msgspec.Struct):
    code: str
    """20 digits, like a pay code; the counter accepts it once, in its window."""
    show_from: datetime
    show_until: datetime


class OfflineCodes(msgspec.Struct):
    server_time: datetime
    """The server's clock when the batch was made: a phone whose clock is off corrects by it."""
    codes: list[OfflineCode]


class ExpiringPoints(msgspec.Struct):
    points: int
    on: date
    """The last day (China time) the points can be used; they expire at its end."""


class Me(Resident):
    expiring: list[ExpiringPoints] = []
    """Points that expire within a month under the community's policy, soonest first (first in,
    first out: spending uses the oldest points first); empty when none do."""


class MyOrder(msgspec.Struct):
    id: int
    """Open it with `GET /orders/{id}` (its lines, refunds and balances)."""
    outlet: int
    outlet_name: str
    total: int
    refunded: int
    """Points given back by refunds of this order so far; 0 when none."""
    status: str
    """`completed`, or `refunded` once every line came back."""
    created_at: datetime


class MyOrders(msgspec.Struct):
    orders: list[MyOrder]
    page: int
    more: bool
    """True when an older page follows (`page` + 1)."""


Page = Annotated[
    int, QueryParameter(ge=1, le=my_orders.MAX_PAGE, description="page number, 1 is the newest")
]


class MeController(Controller):
    tags = ["me"]
    dependencies = allow(*RESIDENT)
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/me",
        summary="My account",
        description=(
            "The signed-in resident: balance, points held for reservations, and available; "
            "`expiring`: points that expire within a month, with the day."
        ),
    )
    async def show(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> Me:
        found = resident(await residents.get_resident(db, p, own_resident_id(p)))
        soon = await expiry.resident_expiring(db, p, own_resident_id(p))
        return Me(
            **msgspec.structs.asdict(found),
            expiring=[ExpiringPoints(points=e.points, on=e.on) for e in soon],
        )

    @get(
        "/me/pay-code",
        summary="A fresh pay code",
        description=("A new code on every call, valid for about a minute and for one checkout."),
    )
    async def pay_code(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> PayCode:
        made = await credentials.new_pay_code(db, p)
        return msgspec.convert(made, PayCode, from_attributes=True)

    @get(
        "/me/offline-codes",
        summary="Offline pay codes for this phone",
        description=(
            "A batch of pay codes to show, one after another, while the phone has no network: "
            "each from `show_from` to `show_until` (three minutes, following each other from "
            "now), accepted once at the counter within its window (a minute's allowance either "
            "side for the phone's clock). A new batch ends the previous one of this session, "
            "and the session's end (signing out, a new activation) ends them all."
        ),
    )
    async def offline_codes(
        self, request: Request[Any, Any, Any], db: Db, p: Caller
    ) -> OfflineCodes:
        batch = await offline_codes.issue_batch(db, p)
        return msgspec.convert(batch, OfflineCodes, from_attributes=True)

    @get(
        "/me/passbook",
        summary="My passbook",
        description=("Every movement of my points, newest first, with the balance after each."),
    )
    async def passbook(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        limit: Limit = 20,
        before: Before = None,
    ) -> Passbook:
        statement = await passbooks.passbook(db, p, own_resident_id(p), limit=limit, before=before)
        return passbook(statement)

    @get(
        "/me/orders",
        summary="My orders",
        description=(
            "The signed-in resident's own orders, newest first, 20 a page: outlet, time, points "
            "and what refunds gave back. Each opens with `GET /orders/{id}`."
        ),
    )
    async def orders(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, page: Page = 1
    ) -> MyOrders:
        found = await my_orders.my_orders(db, p, page=page)
        return msgspec.convert(found, MyOrders, from_attributes=True)
