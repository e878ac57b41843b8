"""The counter's two screens, shared by its controllers: the desk waiting for a scan (with the
shift, and a printed card waiting for its PIN) and the resident served with the item grid.
Rendering only: who may see them is checked by the handler that calls.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from mall.access import Principal
from mall.counter import lookup, orders
from mall.counter.orders import Outlet
from mall.counter.visits import Visit
from mall.db import Database
from web.idempotency import new_key
from web.pages.basket import grouped
from web.pages.common import no_store, when
from web.render import render
from web.session import client_ip

OUTLET_COOKIE = "counter_outlet"


async def chosen_outlet(
    request: Request[Any, Any, Any], db: Database, p: Principal, outlet_id: int | None = None
) -> Outlet | None:
    """The outlet this device serves at (its cookie), or ``outlet_id``, if the user serves there."""
    chosen = str(outlet_id) if outlet_id is not None else request.cookies.get(OUTLET_COOKIE, "")
    outlets = await orders.counter_outlets(db, p)
    return next((o for o in outlets if str(o.id) == chosen), None)


async def idle(
    request: Request[Any, Any, Any],
    db: Database,
    p: Principal,
    *,
    error: str | None = None,
    status: int = 200,
    visit: Visit | None = None,
) -> Response[Any]:
    """The desk waiting for a scan; with ``visit``, the card it holds waits for its PIN, or the
    order its pay code paid is named."""
    outlet = await chosen_outlet(request, db, p, visit.outlet_id if visit else None)
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
            visit=visit,
            awaiting_pin=bool(visit and visit.card_code and not visit.pay_code),
        )
    )


async def serve(
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
    visit: str = "",
    on_behalf_of: int | None = None,
) -> Response[Any]:
    """The resident at the counter with the item grid; a fresh key for this checkout. The forms
    carry ``visit`` (the token of the page's visit) so that a refusal comes back to its page.
    With ``on_behalf_of``, the person at the counter is a proxy (代领) and the page says whose
    points pay (``lookup`` refuses it without a live grant)."""
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
            visit=visit,
        )
    )
