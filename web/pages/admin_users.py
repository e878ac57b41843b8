"""Creating a user account (新建账号) as a street administrator: community staff, a volunteer, or
another administrator. The list of accounts is the staff users page (/staff/users); the rules
(usernames, passwords, who belongs to a community) are ``mall.people.users``'s."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from mall.access import Principal
from mall.db import Database
from mall.errors import MallError
from mall.org import communities
from mall.people import users
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, form_status, message, no_store, see_other, user
from web.render import render
from web.session import client_ip

#: the roles the form offers, in its order (the words are in the template)
ROLES = ("staff", "volunteer", "admin")


class AdminUsersController(Controller):
    path = "/admin/users"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/new")
    async def new_user_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        community: FromQuery[str] = "",
        created: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, ("admin",))
        entered = {"username": "", "role": "staff", "community": community.strip()}
        shown = created if users.USERNAME.match(created) else ""
        return await self._page(request, db, p, entered, created=shown)

    @post("/")
    async def create_user(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ("admin",))
        form = await request.form()
        entered = {
            "username": str(form.get("username", "")).strip(),
            "role": str(form.get("role", "")),
            "community": str(form.get("community", "")).strip(),
        }
        role = entered["role"]
        try:
            made = await users.create_user(
                db,
                p,
                entered["username"],
                str(form.get("password", "")),
                role,
                entered["community"] if role != "admin" else None,
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._page(
                request, db, p, entered, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/admin/users/new?created={made.username}")

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        entered: dict[str, str],
        *,
        created: str = "",
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        return no_store(
            render(
                request,
                "admin/user_new.html",
                status_code=status,
                me=p,
                here="user_new",
                found=await communities.list_communities(db, p),
                roles=ROLES,
                entered=entered,
                created=created,
                error=error,
            )
        )
