"""Staff pages of the catalog (商品): items by category with their pictures, donors, outlets.
Volunteers and residents get 403; another community's item is 404 (``mall.shop``)."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Annotated, Any, overload

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.shop import items, outlets, pictures, stock, values
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    see_other,
    user,
)
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

KINDS = {"goods": N_("Goods"), "service": N_("Service")}
OUTLET_KINDS = {"supermarket": N_("Points supermarket"), "partner": N_("Partner merchant")}
DONOR_KINDS = {"unit": N_("Partner unit (双报到)"), "merchant": N_("Merchant")}
PRICE, LIMIT, LOW = N_("Price in points"), N_("Monthly limit"), N_("Low-stock level")


@overload
def whole(value: str | None, what: str) -> int: ...
@overload
def whole(value: str | None, what: str, *, optional: bool) -> int | None: ...
def whole(value: str | None, what: str, *, optional: bool = False) -> int | None:
    """A whole number typed in a form (full-width digits too), or ``Invalid`` naming the field
    (``what``, a message id)."""
    typed = (value or "").strip().translate({0xFF10 + d: str(d) for d in range(10)})
    if not typed and optional:
        return None
    try:
        return int(typed)
    except ValueError:
        raise Invalid(N_("{what}: please enter a whole number."), what=_(what)) from None


def by_category(found: list[values.Item]) -> list[tuple[str, list[values.Item]]]:
    return [(c, list(rows)) for c, rows in groupby(found, key=lambda i: i.category)]


@dataclass
class ItemForm:
    sku: str = ""
    name: str = ""
    kind: str = "goods"
    price_points: str = ""
    unit: str = ""
    category: str = ""
    monthly_limit: str = ""
    low_stock: str = "0"
    donor: str = ""
    active: str = ""
    community: str = ""


@dataclass
class NamedForm:
    name: str = ""
    kind: str = ""
    community: str = ""


class GoodsController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/items")
    async def items_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        found = await items.list_items(db, p, slug, active_only=False) if slug else []
        return no_store(
            render(
                request,
                "shop/items.html",
                me=p,
                slug=slug,
                categories=by_category(found),
                kinds=KINDS,
            )
        )

    async def _item_form(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        form: ItemForm,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        donors = await outlets.list_donors(db, p, form.community) if form.community else []
        return no_store(
            render(
                request,
                "shop/item_new.html",
                status_code=status,
                me=p,
                form=form,
                donors=donors,
                kinds=KINDS,
                error=error,
            )
        )

    @get("/items/new")
    async def new_item_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._item_form(request, db, ItemForm(community=community_of(p, community)))

    @post("/items")
    async def create_item(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ItemForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data.community = community_of(p, data.community)
        try:
            made = await items.create_item(
                db,
                p,
                data.community,
                sku=data.sku,
                name=data.name,
                kind=data.kind,
                price_points=whole(data.price_points, PRICE),
                unit=data.unit,
                category=data.category,
                monthly_limit=whole(data.monthly_limit, LIMIT, optional=True),
                low_stock=whole(data.low_stock, LOW, optional=True) or 0,
                donor=whole(data.donor, N_("Donor"), optional=True),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._item_form(request, db, data, message(exc), form_status(exc))
        return see_other(f"/staff/items/{made.id}?saved=1")

    async def _item_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        item_id: int,
        *,
        form: ItemForm | None = None,
        error: str | None = None,
        picture_error: str | None = None,
        status: int = 200,
        saved: bool = False,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        item = await items.get_item(db, p, item_id)
        if form is None:
            form = ItemForm(
                sku=item.sku,
                name=item.name,
                kind=item.kind,
                price_points=str(item.price_points),
                unit=item.unit,
                category=item.category,
                monthly_limit="" if item.monthly_limit is None else str(item.monthly_limit),
                low_stock=str(item.low_stock),
                active="1" if item.active else "",
            )
        return no_store(
            render(
                request,
                "shop/item.html",
                status_code=status,
                me=p,
                item=item,
                form=form,
                kinds=KINDS,
                error=error,
                picture_error=picture_error,
                saved=saved,
            )
        )

    @get("/items/{item_id:int}")
    async def item_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        item_id: FromPath[int],
        saved: FromQuery[str] = "",
    ) -> Response[Any]:
        return await self._item_page(request, db, item_id, saved=bool(saved))

    @post("/items/{item_id:int}")
    async def save_item(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        item_id: FromPath[int],
        data: Annotated[ItemForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await items.update_item(
                db,
                p,
                item_id,
                name=data.name,
                price_points=whole(data.price_points, PRICE),
                unit=data.unit,
                category=data.category,
                monthly_limit=whole(data.monthly_limit, LIMIT, optional=True),
                low_stock=whole(data.low_stock, LOW, optional=True) or 0,
                active=bool(data.active),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._item_page(
                request, db, item_id, form=data, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/items/{item_id}?saved=1")

    @post("/items/{item_id:int}/picture", request_max_body_size=pictures.MAX_BYTES * 4)
    async def upload_picture(
        self, request: Request[Any, Any, Any], db: Db, item_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        upload = form.get("picture")
        data = b""
        if isinstance(upload, UploadFile):
            data = await upload.read(pictures.MAX_BYTES + 1)
        try:
            await items.set_picture(db, p, item_id, data, ip=client_ip(request))
        except MallError as exc:
            return await self._item_page(
                request, db, item_id, picture_error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/items/{item_id}?saved=1")

    @get("/donors")
    async def donors_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._donors(
            request, db, NamedForm(kind="unit", community=community_of(p, community))
        )

    async def _donors(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        form: NamedForm,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        donors = await outlets.list_donors(db, p, form.community) if form.community else []
        return no_store(
            render(
                request,
                "shop/donors.html",
                status_code=status,
                me=p,
                slug=form.community,
                form=form,
                donors=donors,
                kinds=DONOR_KINDS,
                error=error,
            )
        )

    @post("/donors")
    async def create_donor(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[NamedForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data.community = community_of(p, data.community)
        try:
            await outlets.create_donor(
                db, p, data.community, data.name, data.kind, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._donors(request, db, data, message(exc), form_status(exc))
        suffix = "" if p.community_slug else f"?community={data.community}"
        return see_other(f"/staff/donors{suffix}")

    @get("/outlets")
    async def outlets_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = NamedForm(kind="supermarket", community=community_of(p, community))
        return await self._outlets(request, db, form)

    async def _outlets(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        form: NamedForm,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        found = await outlets.list_outlets(db, p, form.community) if form.community else []
        low = await stock.low_stock(db, p, form.community) if form.community else []
        return no_store(
            render(
                request,
                "shop/outlets.html",
                status_code=status,
                me=p,
                slug=form.community,
                form=form,
                outlets=found,
                low=low,
                kinds=OUTLET_KINDS,
                error=error,
            )
        )

    @post("/outlets")
    async def create_outlet(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[NamedForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data.community = community_of(p, data.community)
        try:
            made = await outlets.create_outlet(
                db, p, data.community, data.name, data.kind, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._outlets(request, db, data, message(exc), form_status(exc))
        return see_other(f"/staff/outlets/{made.id}")
