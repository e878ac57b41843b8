"""The resident's reservations (预约) as pages: the list, the catalogue of an outlet of their
community with − and + steppers and a running total against the points available (goods only),
the confirmation step, the page that says what to collect where and until when, and cancelling.
Collecting one is at the counter (``web.pages.counter``).

Every step works without JavaScript: a stepper is a submit button that posts the form back with
one more or one less; ``static/js/reserve.js`` only does the same arithmetic in the page.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import Principal
from mall.counter import orders, reservations
from mall.counter.orders import Item
from mall.db import Database
from mall.errors import N_
from mall.people import residents
from web.deps import Db
from web.i18n import gettext as _
from web.idempotency import idempotency, new_key
from web.pages.basket import grouped, problem_text, quantities
from web.pages.common import EXCEPTION_HANDLERS, no_store, resident, see_other, when
from web.render import render
from web.session import own_resident_id

MOST = 99  # of one item in one reservation


def _outlet_id(form: Any) -> int:
    try:
        return int(str(form.get("outlet", "0")))
    except ValueError:
        return 0


def _stepped(form: Any) -> dict[str, int]:
    """The quantities posted, with the stepper that was pressed (``step`` = ``sku:±1``) applied."""
    chosen = {sku: q for sku, q in quantities(form) if q > 0}
    sku, _sep, by = str(form.get("step", "")).rpartition(":")
    if sku and by in ("1", "-1"):
        chosen[sku] = max(0, min(MOST, chosen.get(sku, 0) + int(by)))
    return {sku: q for sku, q in chosen.items() if q > 0}


def _total(items: list[Item], chosen: dict[str, int]) -> int:
    return sum(i.price_points * chosen.get(i.sku, 0) for i in items)


class ReservationPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/reservations")
    async def mine(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        found = await reservations.my_reservations(db, p)
        rows = [(r, when(r.expires_at)) for r in found]
        return no_store(render(request, "counter/my_reservations.html", rows=rows))

    @get("/me/reservations/{reservation_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        reservation_id: FromPath[int],
        made: FromQuery[int] = 0,
    ) -> Response[Any]:
        """One reservation: what to collect, where, until when (after reserving, a success page)."""
        p = await resident(request, db)
        found = await reservations.my_reservation(db, p, reservation_id)
        return no_store(
            render(
                request,
                "counter/reservation.html",
                r=found,
                until=when(found.expires_at),
                made=bool(made) and found.status == "held",
            )
        )

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

    @post("/me/reservations/new")
    async def step(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """A stepper pressed without JavaScript: the catalogue again, one more or one less."""
        p = await resident(request, db)
        form = await request.form()
        return await self._form(request, db, p, _outlet_id(form), _stepped(form))

    async def _offer(
        self, db: Database, p: Principal, outlet_id: int | None
    ) -> tuple[list[orders.Outlet], orders.Outlet | None, list[Item]]:
        outlets = await orders.counter_outlets(db, p)
        outlet = next((o for o in outlets if o.id == outlet_id), None)
        if outlet is None and len(outlets) == 1:
            outlet = outlets[0]
        items = []
        if outlet is not None:
            items = [i for i in await orders.counter_items(db, p, outlet.id) if i.kind == "goods"]
        return outlets, outlet, items

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
        outlets, outlet, items = await self._offer(db, p, outlet_id)
        if items:  # a stepper never goes past what is on the shelf
            most = {i.sku: min(i.level or 0, MOST) for i in items}
            chosen = {sku: min(q, most[sku]) for sku, q in chosen.items() if most.get(sku)}
        me = await residents.get_resident(db, p, own_resident_id(p))
        total = _total(items, chosen)
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
                total=total,
                over=total > me.available,
                most=MOST,
                days=reservations.lapse_days(),
                error=error,
            )
        )

    @post("/me/reservations/review")
    async def review(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """The confirmation step: what will be set aside, for how many points, before any write."""
        p = await resident(request, db)
        form = await request.form()
        outlet_id, chosen = _outlet_id(form), _stepped(form)
        _outlets, outlet, items = await self._offer(db, p, outlet_id)
        lines = [(i, chosen[i.sku]) for i in items if chosen.get(i.sku, 0) > 0]
        if outlet is None or not lines:
            text = _(N_("Please choose at least one item."))
            return await self._form(request, db, p, outlet_id, chosen, error=text, status=400)
        me = await residents.get_resident(db, p, own_resident_id(p))
        total = _total(items, chosen)
        return no_store(
            render(
                request,
                "counter/reserve_review.html",
                outlet=outlet,
                lines=lines,
                chosen=chosen,
                total=total,
                me=me,
                over=total > me.available,
                days=reservations.lapse_days(),
                key=new_key(),
            )
        )

    @post("/me/reservations")
    async def reserve(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        form = await request.form()
        wanted = quantities(form)
        outlet_id = _outlet_id(form)
        try:
            idem = await idempotency(request, p.label())
            made = await reservations.reserve(
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
        return see_other(f"/me/reservations/{made.id}?made=1")

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
