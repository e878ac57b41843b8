"""What became of the pay code on the resident's pay page (``/me/pay``): polled every few
seconds, it turns the page into the receipt once the code paid at a counter.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from mall.counter import lookup
from mall.people import codes, credentials
from web import qr
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, local, no_store, resident, when
from web.render import render


class PayStatusController(Controller):
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
                    at=when(order.created_at) if order else "",
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
