"""The volunteer's counter (兑换台) and the resident's reservations (预约), as pages.

Counter: pick the outlet (remembered in a cookie), scan or type a pay code, or a card and PIN;
the resident, their points, limits and reservations appear with the item grid; Confirm posts the
order with a hidden idempotency key the server rendered, so a second press shows the same
receipt. Every step is a plain form; ``static/js/counter.js`` and htmx only make it quicker.
The resident's pay page polls ``/me/pay/status`` and turns into the receipt once its code paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

import catalog
from mall.access import STAFF_ROLES, Principal
from mall.counter import basket, checkout, lookup, orders, reservations
from mall.db import Database
from mall.errors import MallError
from mall.people import codes, credentials, residents
from web import qr
from web.deps import Db
from web.i18n import gettext as _
from web.idempotency import idempotency, new_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    local,
    no_store,
    resident,
    see_other,
    user,
    when,
)
from web.problems import CATALOG_ERRORS, LEDGER_ERRORS
from web.render import render
from web.session import client_ip, own_resident_id

OUTLET_COOKIE = "counter_outlet"
ROLES = basket.COUNTER_ROLES


@dataclass
class ScanForm:
    code: str = ""
    pin: str = ""


@dataclass
class OutletForm:
    outlet: int = 0


@dataclass
class CodeForm:
    code: str = ""


def problem_text(exc: Exception) -> tuple[str, int]:
    """A domain or catalog error in the reader's words, with the status to answer with."""
    if isinstance(exc, MallError):
        return _(exc.message, **exc.params), exc.status if exc.status >= 400 else 400
    if isinstance(exc, catalog.OutOfStock):
        return _(CATALOG_ERRORS[catalog.OutOfStock][2], **vars(exc)), 409
    for cls in type(exc).__mro__:
        if cls in LEDGER_ERRORS:
            _code, status, msg = LEDGER_ERRORS[cls]
            return _(msg), status
    raise exc


def quantities(form: Any) -> list[tuple[str, int]]:
    """``q_<sku>`` fields of the item grid as ``(sku, quantity)``; blanks and zeros left out."""
    wanted = []
    for name, value in form.items():
        if name.startswith("q_") and str(value).strip() not in ("", "0"):
            try:
                quantity = int(str(value).strip())
            except ValueError:
                quantity = -1
            wanted.append((name[2:], quantity))
    return wanted


def grouped(items: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        groups.setdefault(item["category"] or _("Other"), []).append(item)
    return list(groups.items())


class CounterController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _outlet(
        self, request: Request[Any, Any, Any], db: Database, p: Principal
    ) -> dict[str, Any] | None:
        chosen = request.cookies.get(OUTLET_COOKIE, "")
        outlets = await orders.counter_outlets(db, p)
        return next((o for o in outlets if str(o["id"]) == chosen), None)

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
        recent = await orders.recent_orders(db, p, outlet["id"], limit=10)
        return no_store(
            render(
                request,
                "counter/scan.html",
                status_code=status,
                me=p,
                here="counter",
                outlet=outlet,
                shift=shift,
                since=when(shift["since"]),
                recent=[{**o, "when": when(o["created_at"])} for o in recent],
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
        if any(o["id"] == data.outlet for o in outlets):
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
        outlet: dict[str, Any],
        code: str,
        pin: str = "",
        *,
        error: str | None = None,
        status: int = 200,
        chosen: dict[str, int] | None = None,
    ) -> Response[Any]:
        """The resident at the counter with the item grid; a fresh key for this checkout."""
        found = await lookup.lookup(db, p, outlet["id"], code, pin or None, ip=client_ip(request))
        items = await orders.counter_items(db, p, outlet["id"])
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
                code=found["counter_code"],
                groups=grouped(items),
                chosen=chosen,
                total=sum(i["price_points"] * chosen.get(i["sku"], 0) for i in items),
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
            return await self._serve(request, db, p, outlet, data.code, data.pin)
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
        wanted = quantities(form)
        try:
            idem = await idempotency(request, p.label())
            done = await checkout.checkout(
                db,
                p,
                outlet["id"],
                code=code,
                lines=wanted,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except Exception as exc:
            text, status = problem_text(exc)
            chosen = {sku: q for sku, q in wanted if q > 0}
            try:
                return await self._serve(
                    request, db, p, outlet, code, error=text, status=status, chosen=chosen
                )
            except Exception as again:  # the code itself is no good any more: scan again
                text, status = problem_text(again)
                return await self._idle(request, db, p, error=text, status=status)
        return see_other(f"/counter/orders/{done['id']}")

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
                db, p, reservation_id, code=data.code, ip=client_ip(request)
            )
        except Exception as exc:
            text, status = problem_text(exc)
            try:
                return await self._serve(
                    request, db, p, outlet, data.code, error=text, status=status
                )
            except Exception as again:
                text, status = problem_text(again)
                return await self._idle(request, db, p, error=text, status=status)
        return see_other(f"/counter/orders/{done['id']}")

    @get("/counter/orders/{order_id:int}")
    async def receipt(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, ROLES)
        order = await orders.get_order(db, p, order_id)
        return no_store(
            render(
                request,
                "counter/receipt.html",
                me=p,
                here="counter",
                order=order,
                at=when(order["created_at"]),
                can_refund=p.role in STAFF_ROLES and order["status"] == "completed",
                key=new_key(),
            )
        )

    @post("/counter/orders/{order_id:int}/refund")
    async def refund(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            idem = await idempotency(request, p.label())
            await orders.refund(db, p, order_id, idempotency_key=idem.key, ip=client_ip(request))
        except MallError as exc:
            if exc.code != "already_refunded":
                raise
        return see_other(f"/counter/orders/{order_id}")


class ReservationPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/pay/status")
    async def pay_status(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        code: FromQuery[str] = "",
        scanned: FromQuery[str] = "",
    ) -> Response[Any]:
        """Polled by the pay page every few seconds: nothing (204) while the code waits, the
        receipt once it paid, the code without renewal once a counter scanned it, a fresh code
        when it is about to expire. Without htmx (a plain refresh), always the whole page."""
        p = await resident(request, db)
        state, until = await lookup.code_state(db, p, code)
        htmx = request.headers.get("hx-request") == "true"
        if state == "paid":
            order = await lookup.order_for_code(db, p, code)
            return no_store(
                render(
                    request,
                    "resident/pay.html",
                    fragment="paycode",
                    order=order,
                    at=when(order["created_at"]) if order else "",
                )
            )
        if htmx and (state == "fresh" or (state == "scanned" and scanned == "1")):
            return Response(content=b"", status_code=204, headers={"Cache-Control": "no-store"})
        if state in ("fresh", "scanned") and until is not None:
            shown, expires = code.strip(), local(until).strftime("%H:%M:%S")
        else:
            issued = await credentials.new_pay_code(db, p)
            shown, expires = issued.code, local(issued.expires_at).strftime("%H:%M:%S")
        return no_store(
            render(
                request,
                "resident/pay.html",
                fragment="paycode",
                code=shown,
                qr=await qr.render(shown),
                digits=codes.pay_code_groups(shown),
                expires=expires,
                scanned=state == "scanned",
            )
        )

    @get("/me/reservations")
    async def mine(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        found = await reservations.my_reservations(db, p)
        rows = [{**r, "until": when(r["expires_at"]), "made": when(r["created_at"])} for r in found]
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
        outlet = next((o for o in outlets if o["id"] == outlet_id), None)
        if outlet is None and len(outlets) == 1:
            outlet = outlets[0]
        items = []
        if outlet is not None:
            items = [
                i for i in await orders.counter_items(db, p, outlet["id"]) if i["kind"] == "goods"
            ]
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

    @post("/me/reservations/{reservation_id:int}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, reservation_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        await reservations.cancel(db, p, reservation_id)
        return see_other("/me/reservations")


ROUTES: list[ControllerRouterHandler] = [CounterController, ReservationPages]
