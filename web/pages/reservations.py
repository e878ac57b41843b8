"""The resident's reservations (预约) as pages: the list, the form that reserves goods at an
outlet of their community (the item grid, goods only), and cancelling. Collecting one is at the
counter (``web.pages.counter``).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import Principal
from mall.counter import orders, reservations
from mall.db import Database
from mall.people import residents
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.basket import grouped, problem_text, quantities
from web.pages.common import EXCEPTION_HANDLERS, no_store, resident, see_other, when
from web.render import render
from web.session import own_resident_id


class ReservationPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/reservations")
    async def mine(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        found = await reservations.my_reservations(db, p)
        rows = [(r, when(r.expires_at)) for r in found]
        return no_store(render(request, "counter/my_reservations.html", rows=rows))

    @get("/me/reservations/new")
    async def new(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        outlet: FromQuery[int | None] = None,
        sku: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await resident(request, db)
        return await self._form(request, db, p, outlet, {sku: 1} if sku else {})

    async def _form(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        outlet_id: int | None,
        chosen: dict[str, int],
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        outlets = await orders.counter_outlets(db, p)
        outlet = next((o for o in outlets if o.id == outlet_id), None)
        if outlet is None and len(outlets) == 1:
            outlet = outlets[0]
        items = []
        if outlet is not None:
            items = [i for i in await orders.counter_items(db, p, outlet.id) if i.kind == "goods"]
        me = await residents.get_resident(db, p, own_resident_id(p))
        return no_store(
            render(
                request,
                "counter/reserve.html",
                status_code=status,
                outlets=outlets,
                outlet=outlet,
                groups=grouped(items),
                chosen=chosen,
                me=me,
                days=reservations.lapse_days(),
                key=new_key(),
                error=error,
            )
        )

    @post("/me/reservations")
    async def reserve(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        form = await request.form()
        wanted = quantities(form)
        try:
            outlet_id = int(str(form.get("outlet", "0")))
        except ValueError:
            outlet_id = 0
        try:
            idem = await idempotency(request, p.label())
            await reservations.reserve(
                db,
                p,
                outlet_id,
                wanted,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
            )
        except Exception as exc:
            text, status = problem_text(exc)
            chosen = {sku: q for sku, q in wanted if q > 0}
            return await self._form(request, db, p, outlet_id, chosen, error=text, status=status)
        return see_other("/me/reservations")

    @get("/me/reservations/{reservation_id:int}/cancel")
    async def cancel_question(
        self, request: Request[Any, Any, Any], db: Db, reservation_id: FromPath[int]
    ) -> Response[Any]:
        """Cancelling cannot be undone: the question first, with big buttons."""
        p = await resident(request, db)
        found = await reservations.get_reservation(db, p, reservation_id)
        if found.status != "held":
            return see_other("/me/reservations")
        return no_store(
            render(
                request,
                "counter/reservation_cancel.html",
                r=found,
                until=when(found.expires_at),
                action=f"/me/reservations/{reservation_id}/cancel",
                back="/me/reservations",
            )
        )

    @post("/me/reservations/{reservation_id:int}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, reservation_id: FromPath[int]
    ) -> Response[Any]:
        """Cancels only when the question was answered (``confirmed``); else asks it."""
        p = await resident(request, db)
        if (await request.form()).get("confirmed") != "yes":
            return see_other(f"/me/reservations/{reservation_id}/cancel")
        await reservations.cancel(db, p, reservation_id)
        return see_other("/me/reservations")
