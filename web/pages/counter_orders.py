"""Orders at the counter, after the checkout: the receipt, and the refund staff give from it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from mall.access import STAFF_ROLES
from mall.counter import basket, orders
from mall.errors import MallError
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.common import EXCEPTION_HANDLERS, no_store, see_other, user, when
from web.render import render
from web.session import client_ip


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
