"""The outlet's order history at the counter (兑换记录): search by receipt number, masked name or
phone tail, and day; a page at a time, newest first; each order opens its receipt, which prints
as a 58-mm slip (``web.pages.counter_orders``). Only the outlets the volunteer serves at."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from mall.counter import basket, history, orders
from mall.errors import N_, Invalid, NotFound
from web.deps import Db
from web.pages.basket import problem_text
from web.pages.common import EXCEPTION_HANDLERS, no_store, user, when
from web.render import render

OUTLET_COOKIE = "counter_outlet"  # the counter's own (web.pages.counter)


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(N_("Please enter the date as YYYY-MM-DD.")) from exc


class CounterHistoryPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/counter/history")
    async def history(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        outlet: FromQuery[int | None] = None,
        q: FromQuery[str] = "",
        day: FromQuery[str] = "",
        page: FromQuery[int] = 1,
    ) -> Response[Any]:
        p = await user(request, db, basket.COUNTER_ROLES)
        outlets = await orders.counter_outlets(db, p)
        if outlet is not None and all(o.id != outlet for o in outlets):
            raise NotFound()  # not an outlet this volunteer serves at
        chosen = str(outlet) if outlet is not None else request.cookies.get(OUTLET_COOKIE, "")
        here = next((o for o in outlets if str(o.id) == chosen), outlets[0] if outlets else None)
        found, error, status = None, None, 200
        if here is not None:
            try:
                found = await history.order_history(
                    db, p, here.id, query=q, day=_day(day.strip()), page=page
                )
            except Exception as exc:  # shown above the list
                error, status = problem_text(exc)
                if status in (403, 404):
                    raise
        return no_store(
            render(
                request,
                "counter/history.html",
                status_code=status,
                me=p,
                here="counter",
                outlets=outlets,
                outlet=here,
                q=q,
                day=day,
                found=found,
                rows=[(o, when(o.created_at)) for o in found.orders] if found else [],
                error=error,
            )
        )
