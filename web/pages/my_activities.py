"""Recruitment call pages (招募令) for residents: upcoming calls and their own, signing up and
cancelling, and the page the check-in QR opens. Staff have theirs in ``web.pages.activities``.

A GET never changes anything: the page the check-in QR opens shows one big button that POSTs
(chat apps and camera apps open links to preview them). The rules live in ``mall.earning``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from mall.access import Principal
from mall.db import Database
from mall.earning import activities, checkin, signups
from mall.errors import AlreadyCheckedIn, MallError
from web.deps import Db
from web.pages.activities import view
from web.pages.common import (
    EXCEPTION_HANDLERS,
    form_status,
    local,
    message,
    no_store,
    resident,
    see_other,
)
from web.render import render
from web.session import principal


class ResidentActivityController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/me/activities")
    async def index(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        found = await activities.my_activities(db, p)
        coming = {a.id for a in found.upcoming}  # shown there already, with my place
        return no_store(
            render(
                request,
                "activities/mine.html",
                upcoming=[view(a) for a in found.upcoming],
                earlier=[view(a) for a in found.mine if a.id not in coming],
            )
        )

    @get("/me/activities/{activity_id:int}")
    async def show(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        return await self._detail(request, db, p, activity_id, None)

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        activity_id: int,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        found = await activities.activity_for_resident(db, p, activity_id)
        return no_store(
            render(
                request,
                "activities/detail.html",
                a=view(found),
                over=found.ends_at <= activities.now(),
                error=error,
                status_code=status,
            )
        )

    @post("/me/activities/{activity_id:int}/signup")
    async def sign_up(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            await signups.sign_up(db, p, activity_id)
        except MallError as exc:
            return await self._detail(request, db, p, activity_id, message(exc), form_status(exc))
        return see_other(f"/me/activities/{activity_id}")

    @post("/me/activities/{activity_id:int}/cancel")
    async def cancel(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            await signups.cancel_sign_up(db, p, activity_id)
        except MallError as exc:
            return await self._detail(request, db, p, activity_id, message(exc), form_status(exc))
        return see_other(f"/me/activities/{activity_id}")

    @get("/c/{code:str}")
    async def landing(
        self, request: Request[Any, Any, Any], db: Db, code: FromPath[str]
    ) -> Response[Any]:
        """What the check-in QR opens: the activity and one big button; nothing is done yet."""
        return await self._landing(request, db, code, None)

    async def _landing(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        code: str,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        p = await principal(request, db)
        try:
            found = await checkin.activity_for_code(db, code)
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "activities/checkin.html",
                    status_code=exc.status,
                    a=None,
                    code=code,
                    problem=message(exc),
                    bound=p is not None and p.kind == "resident",
                    staff=p is not None and p.kind == "user",
                    error=None,
                )
            )
        return no_store(
            render(
                request,
                "activities/checkin.html",
                status_code=status,
                a=view(found),
                code=code,
                problem=None,
                bound=p is not None and p.kind == "resident",
                staff=p is not None and p.kind == "user",
                error=error,
            )
        )

    @post("/c/{code:str}")
    async def check_in(
        self, request: Request[Any, Any, Any], db: Db, code: FromPath[str]
    ) -> Response[Any]:
        p = await principal(request, db)
        if p is None or p.kind != "resident":
            return await self._landing(request, db, code, None, 403)
        try:
            activity_id = checkin.read_checkin_code(code)
            await checkin.check_in(db, p, activity_id, code)
        except AlreadyCheckedIn:
            return see_other(f"/me/activities/{activity_id}/checked-in")
        except MallError as exc:
            return await self._landing(request, db, code, message(exc), exc.status)
        return see_other(f"/me/activities/{activity_id}/checked-in")

    @get("/me/activities/{activity_id:int}/checked-in")
    async def checked_in(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        found = await activities.activity_for_resident(db, p, activity_id)
        if found.my_checked_in_at is None:
            return see_other(f"/me/activities/{activity_id}")
        return no_store(
            render(
                request,
                "activities/checked_in.html",
                a=view(found),
                at=local(found.my_checked_in_at).strftime("%H:%M"),
            )
        )


ROUTES: list[ControllerRouterHandler] = [ResidentActivityController]
