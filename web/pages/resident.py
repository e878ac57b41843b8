"""The resident's own pages, on their phone: binding the phone by activation QR, the balance,
the pay code, the passbook, volunteer hours and settings (elder mode, language, the ranking).

A GET never binds a phone or changes anything (chat apps open links to preview them); the
activation button POSTs. The pay code page is the only one that draws a QR, in a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.db import Database
from mall.earning import expiry, hours
from mall.errors import CodeUsed, Invalid, MallError
from mall.notify import inbox
from mall.people import cards, codes, credentials, passbooks, preferences, residents
from mall.people.auth import RESIDENT_SESSION
from web import i18n, qr
from web.deps import AppSettings, Db
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    local,
    message,
    no_store,
    passbook_rows,
    resident,
    safe_next,
    see_other,
    when,
)
from web.pages.pay_status import timing
from web.render import render
from web.session import client_ip, own_resident_id, principal, session_cookie

PREFERENCE_FOR = 400 * 86400  # seconds: a preference outlives any session
RECENT = 5  # passbook entries on the home page
PAGE = 20  # passbook entries per page


@dataclass
class PreferenceForm:
    elder: str = ""
    lang: str = ""
    next: str = ""


@dataclass
class RankingForm:
    show: str = ""


def remember(response: Response[Any], name: str, value: str) -> None:
    """A display preference; not secret, so the offline page's script may read it too."""
    response.set_cookie(name, value, max_age=PREFERENCE_FOR, httponly=False, samesite="lax")


class ResidentController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/start")
    async def start(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        return render(request, "resident/start.html", signed_in=await principal(request, db))

    @get("/a/{code:str}")
    async def activation_landing(
        self, request: Request[Any, Any, Any], db: Db, code: FromPath[str]
    ) -> Response[Any]:
        try:
            await credentials.check_activation(db, code)
        except MallError as exc:
            return await self._code_problem(request, db, exc, code)
        return no_store(render(request, "resident/activate.html", code=code))

    @post("/a/{code:str}")
    async def activate(
        self, request: Request[Any, Any, Any], db: Db, settings: AppSettings, code: FromPath[str]
    ) -> Response[Any]:
        try:
            token, _ = await credentials.activate(db, code, ip=client_ip(request))
        except MallError as exc:
            return await self._code_problem(request, db, exc, code)
        response = see_other("/me")
        response.set_cookie(session_cookie(token, int(RESIDENT_SESSION.total_seconds()), settings))
        return response

    async def _code_problem(
        self, request: Request[Any, Any, Any], db: Database, exc: MallError, code: str
    ) -> Response[Any]:
        p = await principal(request, db)
        if (
            isinstance(exc, CodeUsed)
            and p is not None
            and p.kind == "resident"
            and await credentials.activated_phone_of(db, code, own_resident_id(p))
        ):  # the resident scanned their own paper again, on the phone it bound
            return see_other("/me?activated=1")
        return no_store(
            render(
                request,
                "resident/code_problem.html",
                status_code=exc.status,
                reason=exc.code,
                text=message(exc),
                bound=p is not None and p.kind == "resident",
            )
        )

    @get("/me")
    async def home(
        self, request: Request[Any, Any, Any], db: Db, activated: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await resident(request, db)
        me = await residents.get_resident(db, p, own_resident_id(p))
        statement = await passbooks.passbook(db, p, own_resident_id(p), limit=RECENT)
        return no_store(
            render(
                request,
                "resident/home.html",
                me=me,
                balance=await residents.my_balances(db, p),
                rows=passbook_rows(statement.entries),
                expiring=await expiry.resident_expiring(db, p, own_resident_id(p)),
                unread=await inbox.unread(db, p),
                service=await hours.my_hours(db, p),
                offer_elder="elder" not in request.cookies,
                resident_id=p.resident_id,
                activated=activated == "1",
            )
        )

    @get("/me/pay")
    async def pay(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        issued = await credentials.new_pay_code(db, p)
        return no_store(
            render(
                request,
                "resident/pay.html",
                fragment="paycode",
                code=issued.code,
                qr=await qr.render(issued.code),
                digits=codes.pay_code_groups(issued.code),
                expires=local(issued.expires_at).strftime("%H:%M:%S"),
                resident_id=p.resident_id,
                **timing(issued.expires_at),
            )
        )

    @get("/me/passbook")
    async def passbook(
        self, request: Request[Any, Any, Any], db: Db, before: FromQuery[int | None] = None
    ) -> Response[Any]:
        p = await resident(request, db)
        statement = await passbooks.passbook(db, p, own_resident_id(p), limit=PAGE, before=before)
        card = await cards.card_of(db, p, own_resident_id(p)) if before is None else None
        first_page = before is None
        soon = await expiry.resident_expiring(db, p, own_resident_id(p)) if first_page else []
        balance = await residents.my_balances(db, p) if first_page else None
        return no_store(
            render(
                request,
                "resident/passbook.html",
                fragment="rows",
                rows=passbook_rows(statement.entries),
                next=statement.next,
                first_page=first_page,
                balance=balance,
                expiring=soon,
                card=card,
                card_issued=when(card.issued_at) if card else "",
                card_approved=when(card.approved_at) if card and card.approved_at else "",
            )
        )

    @get("/me/settings")
    async def settings_page(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await resident(request, db)
        return no_store(
            render(
                request,
                "resident/settings.html",
                on_ranking=await preferences.ranking_opt_in(db, p),
                slug=p.community_slug,
            )
        )

    @post("/me/ranking")
    async def ranking_choice(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[RankingForm, FORM]
    ) -> Response[Any]:
        """Opt in to the community's ranking, or out (``show`` 1 or 0)."""
        p = await resident(request, db)
        if data.show not in ("0", "1"):
            raise Invalid()
        await preferences.set_ranking_opt_in(db, p, data.show == "1", ip=client_ip(request))
        return see_other("/me/settings")

    @post("/me/preferences")
    async def preferences(
        self, request: Request[Any, Any, Any], data: Annotated[PreferenceForm, FORM]
    ) -> Response[Any]:
        """Elder mode and language; anybody may set them (the first-visit banner, settings)."""
        response = see_other(safe_next(data.next, "/me"))
        if data.elder in ("0", "1"):
            remember(response, "elder", data.elder)
        if data.lang in i18n.LANGUAGES:
            remember(response, "lang", data.lang)
        return response
