"""Cancelling a reservation at the counter (staff): the question on a page of its own, then the
cancel. Handing one over is ``web.pages.counter``'s; the resident cancels from their phone
(``web.pages.reservations``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from mall.access import STAFF_ROLES
from mall.counter import reservations
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, no_store, see_other, user, when
from web.render import render


class CounterReservationPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/counter/reservations/{reservation_id:int}/cancel")
    async def cancel_question(
        self, request: Request[Any, Any, Any], db: Db, reservation_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        found = await reservations.get_reservation(db, p, reservation_id)
        if found.status != "held":
            return see_other("/counter")
        return no_store(
            render(
                request,
                "counter/reservation_cancel_desk.html",
                me=p,
                here="counter",
                r=found,
                until=when(found.expires_at),
                action=f"/counter/reservations/{reservation_id}/cancel",
                back="/counter",
            )
        )

    @post("/counter/reservations/{reservation_id:int}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, reservation_id: FromPath[int]
    ) -> Response[Any]:
        """Cancels only when the question was answered (``confirmed``); else asks it."""
        p = await user(request, db, STAFF_ROLES)
        if (await request.form()).get("confirmed") != "yes":
            return see_other(f"/counter/reservations/{reservation_id}/cancel")
        await reservations.cancel(db, p, reservation_id)
        return see_other("/counter")
