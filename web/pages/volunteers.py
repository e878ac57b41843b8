"""Staff pages for the community's volunteers (志愿者): add a volunteer's account, and choose the
outlets each serves at (none chosen: every outlet of the community). Volunteers and residents
get 403; another community's volunteer is 404 (``mall.org.communities``)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.errors import Invalid, MallError
from mall.people import users
from mall.shop import outlets
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, form_status, message, no_store, see_other, user
from web.pages.earning import ids
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip


class VolunteerController(Controller):
    path = "/staff/volunteers"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def volunteers_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._page(request, db, p, community_of(p, community))

    @post("/")
    async def add_volunteer(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        slug = community_of(p, form.get("community", ""))
        username = str(form.get("username", "")).strip()
        outlets = ids(form.getall("outlet", []))
        entered = {"username": username, "outlets": outlets}
        try:
            made = await users.create_user(
                db,
                p,
                username,
                str(form.get("password", "")),
                "volunteer",
                slug,
                ip=client_ip(request),
                outlets=outlets,
            )
        except MallError as exc:
            status, error = form_status(exc), message(exc)
            return await self._page(
                request, db, p, slug, entered=entered, error=error, status=status
            )
        return see_other(self._here(p, slug, f"#v{made.id}"))

    @post("/{user_id:int}/outlets")
    async def choose_outlets(
        self, request: Request[Any, Any, Any], db: Db, user_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        slug = community_of(p, form.get("community", ""))
        try:
            await users.set_volunteer_outlets(
                db,
                p,
                user_id,
                ids(form.getall("outlet", [])),
                ip=client_ip(request),
            )
        except Invalid as exc:  # another community's volunteer stays not_found
            return await self._page(
                request, db, p, slug, error=message(exc), status=form_status(exc)
            )
        return see_other(self._here(p, slug, f"#v{user_id}"))

    @staticmethod
    def _here(p: Principal, slug: str, anchor: str) -> str:
        return "/staff/volunteers" + ("" if p.community_slug else f"?community={slug}") + anchor

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        slug: str,
        *,
        entered: dict[str, Any] | None = None,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        volunteers = await users.list_volunteers(db, p, slug) if slug else []
        found = await outlets.list_outlets(db, p, slug) if slug else []
        return no_store(
            render(
                request,
                "staff/volunteers.html",
                status_code=status,
                me=p,
                slug=slug,
                volunteers=volunteers,
                outlets=found,
                names={o.id: o.name for o in found},
                entered=entered or {"username": "", "outlets": []},
                error=error,
            )
        )
