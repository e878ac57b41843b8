"""The accounts pages (账号): the list with a switch-off and a switch-on button for each account the
reader may switch (staff: their community's volunteers; a street administrator: everyone, under
/admin/users), and one account's page: role, community, own record, state and last sign-ins.

Switching an account off asks for a tick first; the rules are ``mall.people.accounts``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal, User
from mall.db import Database
from mall.errors import N_, Forbidden, Invalid
from mall.org import communities
from mall.people import accounts
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
    when,
)
from web.render import render
from web.session import client_ip

#: role → what the pages call it
ROLE_WORDS = {
    "admin": N_("Street administrator"),
    "staff": N_("Community staff"),
    "volunteer": N_("Volunteer"),
}
#: session kind → where the sign-in came from
SIGN_IN_WORDS = {"web": N_("Browser"), "api": N_("App or API")}


@dataclass
class SwitchForm:
    confirm: str = ""


def home_of(p: Principal) -> str:
    """Where the reader's account pages live: /admin/users for administrators."""
    return "/admin/users" if p.is_admin else "/staff/users"


def may_switch(p: User, account: accounts.Account) -> bool:
    """Whether the page offers the reader the buttons (the service decides in the end)."""
    return account.id != p.user_id and (p.is_admin or account.role == "volunteer")


async def list_page(
    request: Request[Any, Any, Any], db: Database, p: User, community: str = ""
) -> Response[Any]:
    """The accounts the reader manages: an administrator's, of one community or all."""
    slug = community.strip() if p.is_admin else ""
    found = await accounts.list_users(db, p, slug or None)
    if not p.is_admin:
        found = [a for a in found if a.role == "volunteer"]
    return no_store(
        render(
            request,
            "staff/users.html",
            layout="admin/_layout.html" if p.is_admin else "staff/_layout.html",
            here="users",
            me=p,
            home=home_of(p),
            slug=slug,
            choices=await communities.list_communities(db, p) if p.is_admin else [],
            found=found,
            roles={k: _(v) for k, v in ROLE_WORDS.items()},
            switchable={a.id for a in found if may_switch(p, a)},
        )
    )


async def user_page(
    request: Request[Any, Any, Any],
    db: Database,
    p: User,
    user_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response[Any]:
    """One account: who, where, their own record, on or off, and their last sign-ins."""
    page = await accounts.get_user(db, p, user_id)
    return no_store(
        render(
            request,
            "staff/user.html",
            status_code=status,
            layout="admin/_layout.html" if p.is_admin else "staff/_layout.html",
            here="users",
            me=p,
            home=home_of(p),
            page=page,
            role=_(ROLE_WORDS.get(page.account.role, page.account.role)),
            created=when(page.created_at),
            sign_ins=[
                {"when": when(s.at), "ip": s.ip, "how": _(SIGN_IN_WORDS.get(s.kind, s.kind))}
                for s in page.sign_ins
            ],
            switchable=may_switch(p, page.account),
            error=error,
        )
    )


async def switch(
    request: Request[Any, Any, Any],
    db: Database,
    p: User,
    user_id: int,
    data: SwitchForm,
    *,
    on: bool,
) -> Response[Any]:
    """Switch the account off or on, after the tick; back to its page either way."""
    try:
        if data.confirm != "yes":
            raise Invalid(N_("Please tick the box to confirm."))
        act = accounts.reactivate if on else accounts.deactivate
        await act(db, p, user_id, ip=client_ip(request))
    except (Invalid, Forbidden) as exc:
        return await user_page(request, db, p, user_id, error=message(exc), status=form_status(exc))
    return see_other(f"{home_of(p)}/{user_id}")


class StaffUserPages(Controller):
    """Community staff's accounts pages; an administrator is sent to /admin/users."""

    path = "/staff/users"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def users_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        if p.is_admin:
            query = f"?{urlencode({'community': community})}" if community else ""
            return see_other(f"/admin/users{query}")
        return await list_page(request, db, p)

    @get("/{user_id:int}")
    async def account_page(
        self, request: Request[Any, Any, Any], db: Db, user_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await user_page(request, db, p, user_id)

    @post("/{user_id:int}/deactivate")
    async def deactivate(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        user_id: FromPath[int],
        data: Annotated[SwitchForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await switch(request, db, p, user_id, data, on=False)

    @post("/{user_id:int}/reactivate")
    async def reactivate(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        user_id: FromPath[int],
        data: Annotated[SwitchForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await switch(request, db, p, user_id, data, on=True)
