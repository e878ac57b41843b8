"""Signing in and out with a password (staff, volunteers, street administrators), changing it,
and the volunteers' landing page. The rules (lock-out, rate limits, sessions) live in ``mall.people.auth``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery

from mall.errors import MallError
from mall.org import communities
from mall.people import auth
from web.deps import AppSettings, Db
from web.i18n import gettext as _
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    landing,
    message,
    no_store,
    safe_next,
    see_other,
    user,
)
from web.render import render
from web.session import clear_session, client_ip, principal, session_cookie


@dataclass
class SignInForm:
    username: str = ""
    password: str = ""
    next: str = ""


@dataclass
class PasswordForm:
    current: str = ""
    new: str = ""
    repeat: str = ""


class AccountController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/sign-in")
    async def sign_in_page(
        self, request: Request[Any, Any, Any], db: Db, next: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await principal(request, db)
        return no_store(
            render(request, "account/sign_in.html", username="", next=next, error=None, me=p)
        )

    @post("/sign-in")
    async def sign_in(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        data: Annotated[SignInForm, FORM],
    ) -> Response[Any]:
        try:
            token = await auth.sign_in(
                db, data.username, data.password, ip=client_ip(request), kind="web"
            )
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "account/sign_in.html",
                    status_code=form_status(exc),
                    username=data.username,
                    next=data.next,
                    error=message(exc),
                    me=None,
                )
            )
        p = await auth.principal_for(db, token)
        assert p is not None  # the session was opened a moment ago
        response = see_other(safe_next(data.next, landing(p)))
        response.set_cookie(
            session_cookie(token, int(auth.STAFF_SESSION.total_seconds()), settings)
        )
        return response

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await principal(request, db)
        if p is not None:
            await auth.sign_out(db, p)
        return clear_session(see_other("/sign-in" if p is None or p.kind == "user" else "/start"))

    @get("/account/password")
    async def password_page(
        self, request: Request[Any, Any, Any], db: Db, done: FromQuery[bool] = False
    ) -> Response[Any]:
        p = await user(request, db, ("admin", "staff", "volunteer"))
        return no_store(render(request, "account/password.html", me=p, error=None, done=done))

    @post("/account/password")
    async def change_password(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[PasswordForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, ("admin", "staff", "volunteer"))
        if data.new != data.repeat:
            return no_store(
                render(
                    request,
                    "account/password.html",
                    status_code=400,
                    me=p,
                    error=_("The two new passwords are not the same."),
                    done=False,
                )
            )
        try:
            await auth.change_password(db, p, data.current, data.new, ip=client_ip(request))
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "account/password.html",
                    status_code=form_status(exc),
                    me=p,
                    error=message(exc),
                    done=False,
                )
            )
        return see_other("/account/password?done=true")

    @get("/volunteer")
    async def volunteer_home(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ("volunteer",))
        assert p.community_slug is not None  # volunteers always belong to a community
        community = await communities.get_community(db, p, p.community_slug)
        return no_store(render(request, "account/volunteer.html", me=p, community=community))
