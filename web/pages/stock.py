"""Staff pages of an outlet's stock (库存): levels with the low ones marked, receiving goods and
donations, adjustments, the stocktake (盘点) and what it changed. Each form carries a hidden
idempotency key, so a double tap or a resent form never moves stock twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

import catalog
from mall.access import STAFF_ROLES
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.shop import outlets, stock
from web.deps import Db
from web.i18n import gettext as _
from web.idempotency import idempotency, new_key, stored_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    see_other,
    user,
    when,
)
from web.pages.goods import whole
from web.render import render
from web.session import client_ip

REASONS = {
    "receipt": N_("Goods received"),
    "donation": N_("Donation"),
    "redemption": N_("Exchanged"),
    "refund": N_("Refund"),
    "reservation": N_("Reserved"),
    "release": N_("Reservation released"),
    "stocktake": N_("Stocktake correction"),
    "adjustment": N_("Adjustment"),
}
QUANTITY = N_("Quantity")
COUNTED = N_("Counted quantity")


def form_error(exc: MallError | catalog.CatalogError) -> str:
    """What went wrong with a stock form, in the reader's language."""
    if isinstance(exc, catalog.MovementKeyReused):
        return _("This form was already sent with other values. Please open the page again.")
    if isinstance(exc, MallError):
        return message(exc)
    return _("Please check what you entered.")


@dataclass
class StockForm:
    sku: str = ""
    quantity: str = ""
    reason: str = "receipt"
    donor: str = ""
    memo: str = ""
    key: str = ""


class StockController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _stock_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        outlet_id: int,
        *,
        form: StockForm | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        shelves = await stock.outlet_stock(db, p, outlet_id)
        outlet, rows = shelves.outlet, shelves.goods
        donors = await outlets.outlet_donors(db, p, outlet_id)
        moves = [
            {
                **msgspec.structs.asdict(m),
                "when": when(m.at),
                "why": REASONS.get(m.reason, m.reason),
            }
            for m in await stock.history(db, p, outlet_id, limit=15)
        ]
        done = request.query_params.get("done", "")
        return no_store(
            render(
                request,
                "shop/stock.html",
                fragment="levels" if request.headers.get("hx-target") == "levels" else None,
                status_code=status,
                me=p,
                outlet=outlet,
                rows=rows,
                donors=donors,
                moves=moves,
                form=form or StockForm(key=new_key()),
                done=next((r for r in rows if r.sku == done), None),
                error=error,
            )
        )

    @get("/outlets/{outlet_id:int}")
    async def stock_page(
        self, request: Request[Any, Any, Any], db: Db, outlet_id: FromPath[int]
    ) -> Response[Any]:
        return await self._stock_page(request, db, outlet_id)

    @post("/outlets/{outlet_id:int}/stock")
    async def change_stock(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        outlet_id: FromPath[int],
        data: Annotated[StockForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            quantity = whole(data.quantity, COUNTED if data.reason == "stocktake" else QUANTITY)
            idem = await idempotency(request, p.label())
            made = await stock.change_stock(
                db,
                p,
                outlet_id,
                sku=data.sku,
                quantity=quantity,
                reason=data.reason,
                donor=data.donor.strip() or None,
                memo=data.memo,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except (MallError, catalog.CatalogError) as exc:
            return await self._stock_page(
                request, db, outlet_id, form=data, error=form_error(exc), status=_status(exc)
            )
        return see_other(f"/staff/outlets/{outlet_id}?done={made.sku}")

    @get("/outlets/{outlet_id:int}/stocktake")
    async def stocktake_page(
        self, request: Request[Any, Any, Any], db: Db, outlet_id: FromPath[int]
    ) -> Response[Any]:
        return await self._stocktake_page(request, db, outlet_id)

    async def _stocktake_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        outlet_id: int,
        *,
        typed: dict[str, str] | None = None,
        memo: str = "",
        key: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        shelves = await stock.outlet_stock(db, p, outlet_id)
        return no_store(
            render(
                request,
                "shop/stocktake.html",
                status_code=status,
                me=p,
                outlet=shelves.outlet,
                rows=shelves.goods,
                typed=typed or {},
                memo=memo,
                key=key or new_key(),
                error=error,
            )
        )

    @post("/outlets/{outlet_id:int}/stocktake")
    async def stocktake(
        self, request: Request[Any, Any, Any], db: Db, outlet_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        typed = {
            name.removeprefix("count:"): str(value)
            for name, value in form.items()
            if name.startswith("count:") and str(value).strip()
        }
        memo, key = str(form.get("memo", "")), str(form.get("key", "")).strip()
        try:
            if not typed:
                raise Invalid(N_("Please enter at least one counted quantity."))
            counts = {sku: whole(text, COUNTED) for sku, text in typed.items()}
            idem = await idempotency(request, p.label())
            await stock.stocktake(
                db,
                p,
                outlet_id,
                counts,
                memo,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except (MallError, catalog.CatalogError) as exc:
            return await self._stocktake_page(
                request,
                db,
                outlet_id,
                typed=typed,
                memo=memo,
                key=key,
                error=form_error(exc),
                status=_status(exc),
            )
        return see_other(f"/staff/outlets/{outlet_id}/stocktake/{quote(key, safe='')}")

    @get("/outlets/{outlet_id:int}/stocktake/{key:str}")
    async def stocktake_done(
        self, request: Request[Any, Any, Any], db: Db, outlet_id: FromPath[int], key: FromPath[str]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        outlet = await outlets.get_outlet(db, p, outlet_id)
        changes = await stock.stocktake_result(
            db, p, outlet_id, stored_key(request, p.label(), key)
        )
        return no_store(
            render(request, "shop/stocktake_done.html", me=p, outlet=outlet, changes=changes)
        )


def _status(exc: Exception) -> int:
    return form_status(exc) if isinstance(exc, MallError) else 400
