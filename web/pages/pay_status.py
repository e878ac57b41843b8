"""What became of the pay code on the resident's pay page (``/me/pay``): polled every few
seconds, it turns the page into the receipt once the code paid at a counter. And the batch of
offline pay codes (``/me/pay/offline``) that static/js/pay.js keeps on the phone for when the
network is gone, each with its QR drawn here, since the phone cannot draw one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from mall.counter import lookup
from mall.people import codes, credentials, offline_codes, residents
from web import qr
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, local, no_store, resident, when
from web.render import render


class ShownOfflineCode(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    digits: str
    qr: str
    show_from: datetime
    show_until: datetime


class ShownOfflineBatch(msgspec.Struct, frozen=True, kw_only=True):
    resident_id: int
    server_time: datetime
    codes: list[ShownOfflineCode]


def timing(expires_at: datetime) -> dict[str, int]:
    """When a shown pay code expires and what the server's clock said, in milliseconds since
    the epoch: pay.js hides the code once it expired by the server's clock, never shows it stale."""
    return {
        "expires_ms": int(expires_at.timestamp() * 1000),
        "now_ms": int(credentials.now().timestamp() * 1000),
    }


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
                    balance=await residents.my_balances(db, p),
                )
            )
        if htmx and (state == "fresh" or (state == "scanned" and scanned == "1")):
            return Response(content=b"", status_code=204, headers={"Cache-Control": "no-store"})
        if state in ("fresh", "scanned") and until is not None:
            shown, ends = code.strip(), until
        else:
            issued = await credentials.new_pay_code(db, p)
            shown, ends = issued.code, issued.expires_at
        return no_store(
            render(
                request,
                "resident/pay.html",
                fragment="paycode",
                code=shown,
                qr=await qr.render(shown),
                digits=codes.pay_code_groups(shown),
                expires=local(ends).strftime("%H:%M:%S"),
                scanned=state == "scanned",
                **timing(ends),
            )
        )

    @get("/me/pay/offline")
    async def offline_batch(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """A new batch of offline pay codes for this phone (fetched by static/js/pay.js while
        online, kept in the phone's storage, shown only when the network is gone)."""
        p = await resident(request, db)
        batch = await offline_codes.issue_batch(db, p)
        shown = [
            ShownOfflineCode(
                code=c.code,
                digits=codes.pay_code_groups(c.code),
                qr=str(await qr.render(c.code)),
                show_from=c.show_from,
                show_until=c.show_until,
            )
            for c in batch.codes
        ]
        body = ShownOfflineBatch(
            resident_id=batch.resident_id, server_time=batch.server_time, codes=shown
        )
        return no_store(Response(content=body, media_type="application/json"))
