"""The resident's own orders on the phone (我的兑换记录): the list, newest first, and each
order's receipt with its refunds (退款) and the balance after each. Another resident's order is
404 (``orders.get_order`` scopes it to its own resident)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery

from mall.counter import my_orders, orders
from mall.people import residents
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, no_store, resident, when
from web.render import render


class MyOrdersController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/orders")
    async def list_orders(
        self, request: Request[Any, Any, Any], db: Db, page: FromQuery[int] = 1
    ) -> Response[Any]:
        p = await resident(request, db)
        found = await my_orders.my_orders(db, p, page=page)
        return no_store(
            render(
                request,
                "resident/orders.html",
                rows=[(o, when(o.created_at)) for o in found.orders],
                page=found.page,
                more=found.more,
            )
        )

    @get("/me/orders/{order_id:int}")
    async def receipt(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        order = await orders.get_order(db, p, order_id)
        return no_store(
            render(
                request,
                "resident/receipt.html",
                order=order,
                at=when(order.created_at),
                refunds=[(r, when(r.created_at)) for r in order.refunds],
                balance=await residents.my_balances(db, p),
            )
        )
