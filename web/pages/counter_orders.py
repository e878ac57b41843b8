"""Orders at the counter, after the checkout: the receipt (with its refunds) and its printed slip
for a 58-mm receipt printer; the refund itself is ``web.pages.counter_refunds``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from mall.access import STAFF_ROLES
from mall.counter import basket, orders
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, no_store, user, when
from web.render import render


class CounterOrderController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/counter/orders/{order_id:int}")
    async def receipt(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, basket.COUNTER_ROLES)
        order = await orders.get_order(db, p, order_id)
        return no_store(
            render(
                request,
                "counter/receipt.html",
                me=p,
                here="counter",
                order=order,
                at=when(order.created_at),
                can_refund=p.role in STAFF_ROLES and order.status == "completed",
                refunds=[(r, when(r.created_at)) for r in order.refunds],
            )
        )

    @get("/counter/orders/{order_id:int}/print")
    async def slip(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        """The receipt as a 58-mm thermal printer's slip (小票), on request."""
        p = await user(request, db, basket.COUNTER_ROLES)
        order = await orders.get_order(db, p, order_id)
        return no_store(
            render(
                request,
                "counter/receipt_print.html",
                me=p,
                order=order,
                at=when(order.created_at),
                refunds=[(r, when(r.created_at)) for r in order.refunds],
            )
        )
