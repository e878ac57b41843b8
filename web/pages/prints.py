"""Printing what binds a resident to the app: the activation QR (for their phone) and the
points card with a PIN (for residents without a smartphone). Staff only, their own community.

A code is shown after the POST that issued it: the 303 carries it in a short-lived cookie limited
to that resident's pages, so a reload reprints the same code and the code never sits in a URL or
the browser history. The QR is drawn once per code (``web.qr`` caches it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from mall.access import STAFF_ROLES
from mall.errors import CodeInvalid, MallError
from mall.people import cards, codes, credentials, residents
from mall.settings import Settings
from web import qr
from web.deps import AppSettings, Db
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
from web.pages.staff import resident_view
from web.render import render
from web.session import client_ip

PRINT_COOKIE = "mall_print"
PRINT_FOR = 15 * 60  # seconds a freshly issued code stays printable


@dataclass
class CardForm:
    pin: str = ""


def stash(
    response: Response[Any],
    settings: Settings,
    resident_id: int,
    kind: str,
    code: str,
    expires: int = 0,
) -> None:
    response.set_cookie(
        PRINT_COOKIE,
        f"{kind}.{code}.{expires}",
        max_age=PRINT_FOR,
        path=f"/staff/residents/{resident_id}/",
        httponly=True,
        samesite="strict",
        secure=settings.secure,
    )


def stashed(
    request: Request[Any, Any, Any], settings: Settings, kind: str
) -> tuple[str, datetime | None] | None:
    """The code issued just before, if it is a genuine code of ``kind``."""
    found_kind, _, rest = request.cookies.get(PRINT_COOKIE, "").partition(".")
    code, _, expires = rest.partition(".")
    try:
        if found_kind != kind or codes.parse(settings.secret_key, code).kind != kind:
            return None
        return code, datetime.fromtimestamp(int(expires), UTC) if expires != "0" else None
    except (CodeInvalid, ValueError, OverflowError):
        return None


class PrintController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @post("/residents/{resident_id:int}/activation")
    async def issue_activation(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        resident_id: FromPath[int],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        issued = await credentials.issue_activation(db, p, resident_id, ip=client_ip(request))
        response = see_other(f"/staff/residents/{resident_id}/activation")
        stash(
            response,
            settings,
            resident_id,
            "activation",
            issued.code,
            int(issued.expires_at.timestamp()),
        )
        return response

    @get("/residents/{resident_id:int}/activation")
    async def activation_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        resident_id: FromPath[int],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        resident = await residents.get_resident(db, p, resident_id)
        found = stashed(request, settings, "activation")
        url = credentials.activation_url(found[0]) if found else None
        return no_store(
            render(
                request,
                "staff/activation.html",
                me=p,
                resident=resident,
                masked=residents.mask_name(resident.name),
                url=url,
                qr=await qr.render(url, cache=True) if url else None,
                expires=when(found[1]) if found and found[1] else None,
            )
        )

    @get("/residents/{resident_id:int}/card")
    async def card_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        resident_id: FromPath[int],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        resident = await residents.get_resident(db, p, resident_id)
        found = stashed(request, settings, "card")
        return no_store(
            render(
                request,
                "staff/card.html",
                me=p,
                resident=resident,
                masked=residents.mask_name(resident.name),
                qr=await qr.render(found[0], cache=True) if found else None,
                number=codes.card_number_groups(found[0]) if found else None,
                card=await cards.card_of(db, p, resident_id),
                error=None,
            )
        )

    @post("/residents/{resident_id:int}/card")
    async def issue_card(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        settings: AppSettings,
        resident_id: FromPath[int],
        data: Annotated[CardForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            issued = await credentials.issue_card(
                db, p, resident_id, data.pin, ip=client_ip(request)
            )
        except MallError as exc:
            resident = await residents.get_resident(db, p, resident_id)
            return no_store(
                render(
                    request,
                    "staff/card.html",
                    status_code=form_status(exc),
                    me=p,
                    resident=resident,
                    masked=residents.mask_name(resident.name),
                    qr=None,
                    card=await cards.card_of(db, p, resident_id),
                    error=message(exc),
                )
            )
        response = see_other(f"/staff/residents/{resident_id}/card")
        stash(response, settings, resident_id, "card", issued.card_code)
        return response

    @post("/residents/{resident_id:int}/card/approve")
    async def approve_card(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        """A second staff member lets the resident's waiting card pay (``cards.approve_card``)."""
        p = await user(request, db, STAFF_ROLES)
        try:
            await cards.approve_card(db, p, resident_id, ip=client_ip(request))
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/residents/{resident_id}#card")

    @post("/residents/{resident_id:int}/card/unlock")
    async def unlock_card(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        """Staff unlock the card that wrong PINs locked (``cards.unlock_card``, audited)."""
        p = await user(request, db, STAFF_ROLES)
        try:
            await cards.unlock_card(db, p, resident_id, ip=client_ip(request))
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/residents/{resident_id}#card")
