"""A resident's own reservations (预约): reserve goods for pickup, list and cancel them. Handing
one over is the counter's (web/api/counter.py); the rules live in ``mall.counter.reservations``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.counter import reservations
from web.api.callers import RESIDENT, allow
from web.api.counter import Lines, Reservation, ReservationList, pairs, reservation
from web.api.fields import MAX_ID, Id, IdempotencyKey
from web.deps import Caller, Db
from web.idempotency import idempotency


class NewReservation(msgspec.Struct):
    outlet: Annotated[int, Meta(ge=1, le=MAX_ID)]
    lines: Lines


class ReservationController(Controller):
    tags = ["reservations"]
    dependencies = allow(*RESIDENT)
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/me/reservations",
        summary="Reserve goods for pickup",
        description=(
            "The signed-in resident, at an outlet of their community; needs an "
            "`Idempotency-Key`. The points are held and the goods set aside until collected at "
            "the counter, cancelled, or lapsed after a few days (then both go back)."
        ),
    )
    async def reserve(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        data: JSONBody[NewReservation],
        idempotency_key: IdempotencyKey,
    ) -> Reservation:
        idem = await idempotency(request, principal=p.label())
        made = await reservations.reserve(
            db,
            p,
            data.outlet,
            pairs(data.lines),
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
        )
        return reservation(made)

    @get("/me/reservations", summary="My reservations", description="Newest first.")
    async def mine(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> ReservationList:
        found = await reservations.my_reservations(db, p)
        return ReservationList(reservations=[reservation(r) for r in found])

    @delete(
        "/me/reservations/{reservation_id:int}",
        status_code=200,
        summary="Cancel a reservation",
        description="Points and goods go back. Cancelling it again changes nothing.",
    )
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, reservation_id: Id
    ) -> Reservation:
        done = await reservations.cancel(db, p, reservation_id)
        return reservation(done)


ROUTES: list[ControllerRouterHandler] = [ReservationController]
