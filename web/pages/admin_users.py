"""A street administrator's accounts pages (账号): every account, by community, one account's page
(``web.pages.users`` draws both) with the link to the user's own resident record, and creating
an account: community staff, a volunteer, or another administrator. The rules (usernames,
passwords, who belongs to a community, own records) are ``mall.people``'s."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import Principal
from mall.db import Database
from mall.errors import N_, Invalid, MallError
from mall.org import communities
from mall.people import accounts, users
from web.deps import Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    see_other,
    user,
)
from web.pages.users import list_page, user_page
from web.render import render
from web.session import client_ip

#: the roles the form offers, in its order (the words are in the template)
ROLES = ("staff", "volunteer", "admin")


@dataclass
class OwnRecordForm:
    resident: str = ""


class AdminUsersController(Controller):
    path = "/admin/users"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def users_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, ("admin",))
        return await list_page(request, db, p, community)

    @get("/{user_id:int}")
    async def account_page(
        self, request: Request[Any, Any, Any], db: Db, user_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, ("admin",))
        return await user_page(request, db, p, user_id)

    @post("/{user_id:int}/own-record")
    async def set_own_record(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        user_id: FromPath[int],
        data: Annotated[OwnRecordForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, ("admin",))
        typed = data.resident.strip()
        try:
            if typed and not typed.isdigit():
                raise Invalid(N_("Please type the resident's number, or leave it empty."))
            chosen = int(typed) if typed else None
            await accounts.set_own_record(db, p, user_id, chosen, ip=client_ip(request))
        except MallError as exc:
            return await user_page(
                request, db, p, user_id, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/admin/users/{user_id}")

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
