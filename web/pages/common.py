"""What every page controller shares: who may see a page, where the signed-out are sent, the
303 after a POST, and turning ledger entries and times into what a resident reads.

Permission checks stay in each handler (a client can ask for any page or fragment directly);
these helpers only make them one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body
from litestar.response import Redirect
from litestar.types import ExceptionHandlersMap

import ledger
from mall.access import Principal, ResidentPrincipal, User
from mall.db import Database
from mall.errors import N_, Forbidden, MallError
from mall.people import passbooks
from web.i18n import gettext as _
from web.session import principal

#: China Standard Time (no daylight saving): times are shown as the residents read a clock.
LOCAL_TIME = timezone(timedelta(hours=8), "CST")
#: A form body: ``data: Annotated[SomeForm, FORM]``
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)


class SignInRequired(NotAuthorizedException):
    """Nobody is signed in: the page's controller sends them to ``to``, the sign-in page that fits
    the page they asked for (a 401, so the app logs it without a stack trace)."""

    def __init__(self, to: str) -> None:
        super().__init__(detail=to)
        self.to = to


def to_sign_in(request: Request[Any, Any, Any], exc: SignInRequired) -> Response[Any]:
    """A 303 to the sign-in page; htmx (polling, infinite scroll) is told to load it as a page."""
    if request.headers.get("hx-request") == "true":
        return Response(content="", status_code=200, headers={"HX-Redirect": exc.to})
    return Redirect(path=exc.to, status_code=303)


EXCEPTION_HANDLERS: ExceptionHandlersMap = {SignInRequired: to_sign_in}


async def user(request: Request[Any, Any, Any], db: Database, roles: tuple[str, ...]) -> User:
    """The signed-in staff member or volunteer with one of ``roles``; else sign in, or 403."""
    p = await principal(request, db)
    if p is None:
        path = request.url.path
        if request.url.query:
            path += "?" + request.url.query
        raise SignInRequired("/sign-in?next=" + quote(path, safe="/"))
    if p.kind != "user" or p.role not in roles:
        raise Forbidden()
    return p


async def resident(request: Request[Any, Any, Any], db: Database) -> ResidentPrincipal:
    """The resident whose phone this is; the signed-out are told how to get an activation QR."""
    p = await principal(request, db)
    if p is None:
        raise SignInRequired("/start")
    if p.kind != "resident":
        raise Forbidden(N_("This page is for residents."))
    return p


def message(exc: MallError) -> str:
    """A domain error in the reader's language, to show beside the form that caused it."""
    return _(exc.message, **exc.params)


def form_status(exc: MallError) -> int:
    """A form shown again with its error: 400, or what the error itself says (locked, too many)."""
    return exc.status if exc.status in (403, 429) else 400


def see_other(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def safe_next(value: str | None, default: str) -> str:
    """A same-site path to go back to after a form, never another site."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def landing(p: Principal) -> str:
    """Where a signed-in user starts."""
    if p.kind == "resident":
        return "/me"
    if p.role == "admin":
        return "/admin"
    if p.role == "building_head":
        return "/head"
    return "/volunteer" if p.role == "volunteer" else "/staff/residents"


def no_store(response: Response[Any]) -> Response[Any]:
    """Personal or short-lived content: never kept in a shared or back-button cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def local(at: datetime) -> datetime:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(LOCAL_TIME)


def when(at: datetime) -> str:
    return local(at).strftime("%Y-%m-%d %H:%M")


#: ledger journal kind → what the resident reads in the passbook
ENTRY_WORDS = {
    "award": N_("Points earned"),
    "redemption": N_("Exchanged for goods"),
    "reversal": N_("Correction"),
    "hold": N_("Set aside for a reservation"),
    "capture": N_("Reservation collected, unused points back"),
    "release": N_("Reservation cancelled, points back"),
    "lapse": N_("Reservation not collected, points back"),
    "closure": N_("Record closed, points back to the community"),
    "merge": N_("Moved with a duplicate record"),
    "opening": N_("Opening balance"),
    "expiry": N_("Points expired"),
    "proxy": N_("Collected for a neighbour"),
}


def passbook_rows(entries: Sequence[passbooks.Entry | ledger.Entry]) -> list[dict[str, Any]]:
    """Each entry as the passbook shows it: the amount in words and with its sign, never by colour;
    what a proxy (代领) did, on both sides, in words (a ledger entry knows of no proxy)."""
    rows = []
    for e in entries:
        # a reversal that gives points back is an order's refund (退款); one that takes them
        # back is an award reversed
        refund = e.kind == "reversal" and e.amount > 0
        kind = N_("Refund: points back") if refund else ENTRY_WORDS.get(e.kind)
        memo = e.memo
        if isinstance(e, passbooks.Entry) and e.on_behalf_of:
            memo = _("For {name}, paid from their points: {memo}", name=e.on_behalf_of, memo=memo)
        elif isinstance(e, passbooks.Entry) and e.collected_by:
            memo = _("{memo} (collected by {name})", memo=memo, name=e.collected_by)
        rows.append(
            {
                "when": when(e.at),
                "what": _(kind) if kind else "",
                "memo": memo,
                "sign": "+" if e.amount > 0 else ("−" if e.amount < 0 else ""),
                "points": abs(e.amount),
                "direction": _("In") if e.amount > 0 else (_("Out") if e.amount < 0 else ""),
                "incoming": e.amount > 0,
                "balance_after": e.balance_after,
            }
        )
    return rows
