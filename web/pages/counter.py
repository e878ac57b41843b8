"""The volunteer's counter (兑换台) as pages: the desk where a resident is looked up and served.

Pick the outlet (remembered in a cookie), scan or type a pay code, or a card and PIN; the
resident, their points, limits and reservations appear with the item grid; Confirm posts the
order with a hidden idempotency key the server rendered, so a second press shows the same
receipt; a reservation awaiting pickup is handed over with one tap. Every step is a plain form;
``static/js/counter.js`` and htmx only make it quicker.

The rest of the counter's area: the receipt and refunds in ``web.pages.counter_orders``, the
resident's reservations in ``web.pages.reservations``, the pay page's status in
``web.pages.pay_status``; ``ROUTES`` lists every controller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from mall.counter import basket, checkout, orders, reservations
from web.deps import Db
from web.idempotency import idempotency
from web.pages.basket import problem_text, quantities
from web.pages.common import EXCEPTION_HANDLERS, FORM, see_other, user
from web.pages.counter_desk import OUTLET_COOKIE, chosen_outlet, idle, serve
from web.pages.counter_history import CounterHistoryPages
from web.pages.counter_orders import CounterOrderController
from web.pages.counter_refunds import RefundPages
from web.pages.counter_reservations import CounterReservationPages
from web.pages.counter_visits import CounterVisitController, noted
from web.pages.pay_status import PayStatusController
from web.pages.reservations import ReservationPages
from web.session import client_ip

ROLES = basket.COUNTER_ROLES


@dataclass
class OutletForm:
    outlet: int = 0


@dataclass
class CodeForm:
    code: str = ""
    visit: str = ""
    #: a proxy (代领) at the counter: the resident they collect for
    on_behalf_of: int | None = None


class CounterController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/counter")
    async def counter(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ROLES)
        return await idle(request, db, p)

    @post("/counter/outlet")
    async def choose_outlet(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[OutletForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, ROLES)
        outlets = await orders.counter_outlets(db, p)
        response = see_other("/counter")
        if any(o.id == data.outlet for o in outlets):
            response.set_cookie(
                OUTLET_COOKIE, str(data.outlet), max_age=400 * 86400, httponly=True, samesite="lax"
            )
        return response

    @post("/counter/outlet/forget")
    async def forget_outlet(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        await user(request, db, ROLES)
        response = see_other("/counter")
        response.delete_cookie(OUTLET_COOKIE, path="/")
        return response

    @post("/counter/orders")
    async def confirm(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ROLES)
        outlet = await chosen_outlet(request, db, p)
        if outlet is None:
            return see_other("/counter")
        form = await request.form()
        code = str(form.get("code", ""))
        visit = str(form.get("visit", ""))
        behalf = str(form.get("on_behalf_of", ""))
        on_behalf_of = int(behalf) if behalf.isdigit() and len(behalf) < 10 else None
        wanted = quantities(form)
        try:
            idem = await idempotency(request, p.label())
            done = await checkout.checkout(
                db,
                p,
                outlet.id,
                code=code,
                lines=wanted,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
                on_behalf_of=on_behalf_of,
            )
        except Exception as exc:
            text, status = problem_text(exc)
            chosen = {sku: q for sku, q in wanted if q > 0}
            if visit:  # back to the visit's page, which shows the refusal and the choice
                return await noted(request, db, p, visit, text, chosen, on_behalf_of)
            try:
                return await serve(
                    request,
                    db,
                    p,
                    outlet,
                    code,
                    error=text,
                    status=status,
                    chosen=chosen,
                    on_behalf_of=on_behalf_of,
                )
            except Exception as again:  # the code itself is no good any more: scan again
                text, status = problem_text(again)
                return await idle(request, db, p, error=text, status=status)
        return see_other(f"/counter/orders/{done.id}")

    @post("/counter/reservations/{reservation_id:int}/collect")
    async def collect(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        reservation_id: FromPath[int],
        data: Annotated[CodeForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, ROLES)
        outlet = await chosen_outlet(request, db, p)
        if outlet is None:
            return see_other("/counter")
        try:
            done = await reservations.collect(
                db,
                p,
                reservation_id,
                code=data.code,
                ip=client_ip(request),
                on_behalf_of=data.on_behalf_of,
            )
        except Exception as exc:
            text, status = problem_text(exc)
            if data.visit:
                return await noted(request, db, p, data.visit, text, None, data.on_behalf_of)
            try:
                return await serve(
                    request,
                    db,
                    p,
                    outlet,
                    data.code,
                    error=text,
                    status=status,
                    on_behalf_of=data.on_behalf_of,
                )
            except Exception as again:
                text, status = problem_text(again)
                return await idle(request, db, p, error=text, status=status)
        return see_other(f"/counter/orders/{done.id}")


ROUTES: list[ControllerRouterHandler] = [
    CounterController,
    CounterVisitController,
    CounterOrderController,
    RefundPages,
    CounterReservationPages,
    CounterHistoryPages,
    ReservationPages,
    PayStatusController,
]
