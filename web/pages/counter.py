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

from mall.access import Principal
from mall.counter import basket, checkout, lookup, orders, reservations
from mall.counter.orders import Outlet
from mall.db import Database
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.basket import grouped, problem_text, quantities
from web.pages.common import EXCEPTION_HANDLERS, FORM, no_store, see_other, user, when
from web.pages.counter_orders import CounterOrderController
from web.pages.pay_status import PayStatusController
from web.pages.reservations import ReservationPages
from web.render import render
from web.session import client_ip

OUTLET_COOKIE = "counter_outlet"
ROLES = basket.COUNTER_ROLES


@dataclass
class ScanForm:
    code: str = ""
    pin: str = ""
    #: a proxy (代领) at the counter: the resident they pay and collect for
    on_behalf_of: int | None = None


@dataclass
class OutletForm:
    outlet: int = 0


@dataclass
class CodeForm:
    code: str = ""
    on_behalf_of: int | None = None


class CounterController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _outlet(
        self, request: Request[Any, Any, Any], db: Database, p: Principal
    ) -> Outlet | None:
        chosen = request.cookies.get(OUTLET_COOKIE, "")
        outlets = await orders.counter_outlets(db, p)
        return next((o for o in outlets if str(o.id) == chosen), None)

    async def _idle(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        outlet = await self._outlet(request, db, p)
        if outlet is None:
            outlets = await orders.counter_outlets(db, p)
            return no_store(
                render(request, "counter/outlets.html", me=p, outlets=outlets, here="counter")
            )
        shift = await orders.shift_summary(db, p)
        recent = await orders.recent_orders(db, p, outlet.id, limit=10)
        return no_store(
            render(
                request,
                "counter/scan.html",
                status_code=status,
                me=p,
                here="counter",
                outlet=outlet,
                shift=shift,
                since=when(shift.since),
                recent=[(o, when(o.created_at)) for o in recent],
                error=error,
            )
        )

    @get("/counter")
    async def counter(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ROLES)
        return await self._idle(request, db, p)

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

    async def _serve(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        outlet: Outlet,
        code: str,
        pin: str = "",
        *,
        error: str | None = None,
        status: int = 200,
        chosen: dict[str, int] | None = None,
        on_behalf_of: int | None = None,
    ) -> Response[Any]:
        """The resident at the counter with the item grid; a fresh key for this checkout. With
        ``on_behalf_of``, the person at the counter is a proxy (代领) and the page says whose
        points pay."""
        found = await lookup.lookup(
            db, p, outlet.id, code, pin or None, ip=client_ip(request), on_behalf_of=on_behalf_of
        )
        items = await orders.counter_items(db, p, outlet.id)
        chosen = chosen or {}
        return no_store(
            render(
                request,
                "counter/serve.html",
                status_code=status,
                me=p,
                here="counter",
                outlet=outlet,
                found=found,
                code=found.counter_code,
                groups=grouped(items),
                chosen=chosen,
                total=sum(i.price_points * chosen.get(i.sku, 0) for i in items),
                key=new_key(),
                error=error,
            )
        )

    @post("/counter/scan")
    async def scan(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ScanForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, ROLES)
        outlet = await self._outlet(request, db, p)
        if outlet is None:
            return see_other("/counter")
        try:
            return await self._serve(
                request, db, p, outlet, data.code, data.pin, on_behalf_of=data.on_behalf_of
            )
        except Exception as exc:  # shown beside the scan field
            text, status = problem_text(exc)
            return await self._idle(request, db, p, error=text, status=status)

    @post("/counter/orders")
    async def confirm(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ROLES)
        outlet = await self._outlet(request, db, p)
        if outlet is None:
            return see_other("/counter")
        form = await request.form()
        code = str(form.get("code", ""))
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
            try:
                return await self._serve(
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
                return await self._idle(request, db, p, error=text, status=status)
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
        outlet = await self._outlet(request, db, p)
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
            try:
                return await self._serve(
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
                return await self._idle(request, db, p, error=text, status=status)
        return see_other(f"/counter/orders/{done.id}")


ROUTES: list[ControllerRouterHandler] = [
    CounterController,
    CounterOrderController,
    ReservationPages,
    PayStatusController,
]
