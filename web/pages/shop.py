"""The residents' shop (积分商城): what their community offers, by category, with what is on
the shelf at each outlet; and item pictures, served under their random names for a long time."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from litestar.response import File
from litestar.types import ControllerRouterHandler

from mall.errors import NotFound
from mall.shop import items, pictures
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, no_store, resident
from web.pages.goods import GoodsController
from web.pages.stock import StockController
from web.render import render

#: A stored picture never changes (a new upload gets a new name): cache it for a year.
PICTURE_CACHE = "public, max-age=31536000, immutable"


class ShopController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/shop")
    async def shop_page(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        found = await items.browse(db, p)
        return no_store(
            render(
                request,
                "shop/browse.html",
                me=p,
                outlets=found.outlets,
                categories=found.categories,
            )
        )

    @get("/pictures/{name:str}")
    async def picture(self, name: FromPath[str]) -> File:
        path = pictures.path_of(name)
        if path is None:
            raise NotFound()
        return File(
            path=path,
            media_type=pictures.MEDIA_TYPES[path.suffix.lstrip(".")],
            content_disposition_type="inline",
            filename=path.name,
            headers={"Cache-Control": PICTURE_CACHE},  # nosniff: on every response (headers.py)
        )


ROUTES: list[ControllerRouterHandler] = [GoodsController, StockController, ShopController]
