"""A refund (退款) from the receipt, in three plain steps that need no JavaScript: choose the lines
and write the reason, check them on a confirmation page, confirm. Staff only; the rules
(quantities, self-dealing, once per line) are ``mall.counter.refunds``'s."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from mall.access import STAFF_ROLES, Principal
from mall.counter import orders, refunds
from mall.db import Database
from mall.errors import N_, Invalid
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.basket import problem_text, quantities
from web.pages.common import EXCEPTION_HANDLERS, no_store, see_other, user, when
from web.render import render
from web.session import client_ip


class RefundPages(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _form(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        order_id: int,
        *,
        chosen: dict[str, int] | None = None,
        reason: str = "",
        key: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        order = await orders.get_order(db, p, order_id)
        if order.status != "completed":
            return see_other(f"/counter/orders/{order_id}")
        return no_store(
            render(
                request,
                "counter/refund.html",
                status_code=status,
                me=p,
                here="counter",
                order=order,
                at=when(order.created_at),
                chosen=chosen,
                reason=reason,
                key=key or new_key(),
                error=error,
            )
        )

    @get("/counter/orders/{order_id:int}/refund")
    async def refund_form(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        await refunds.preview(db, p, order_id, None)  # staff of its community, not their own
        return await self._form(request, db, p, order_id)

    @post("/counter/orders/{order_id:int}/refund")
    async def refund(
        self, request: Request[Any, Any, Any], db: Db, order_id: FromPath[int]
    ) -> Response[Any]:
        """Without ``confirmed``: the confirmation page; with it: the refund, then the receipt."""
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        wanted = quantities(form)
        reason = " ".join(str(form.get("reason", "")).split())
        key = str(form.get("key", ""))
        chosen = dict(wanted)
        try:
            if not reason:
                raise Invalid(N_("Please write why the order is refunded."))
            if form.get("confirmed") != "yes":
                seen = await refunds.preview(db, p, order_id, wanted)
                order = await orders.get_order(db, p, order_id)
                return no_store(
                    render(
                        request,
                        "counter/refund_confirm.html",
                        me=p,
                        here="counter",
                        order=order,
                        seen=seen,
                        reason=reason,
                        key=key,
                    )
                )
            idem = await idempotency(request, p.label())
            await refunds.refund(
                db,
                p,
                order_id,
                idempotency_key=idem.key,
                ip=client_ip(request),
                reason=reason,
                lines=wanted,
                req_hash=idem.request_hash,
            )
        except Exception as exc:  # shown above the form, with what was chosen
            text, status = problem_text(exc)
            if status in (403, 404):
                raise
            return await self._form(
                request, db, p, order_id, chosen=chosen, reason=reason, key=key,
                error=text, status=status,
            )  # fmt: skip
        return see_other(f"/counter/orders/{order_id}")
