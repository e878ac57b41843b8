"""A scan at the counter as post/redirect/get: the scan (or a card's PIN) is a POST that records
what it found on a visit (``mall.counter.visits``) and answers 303 to ``/counter/visits/<token>``,
a plain GET that reload, Back and a second tab open again. The URL carries only the visit's
random token, which only the user who scanned may open: never the pay code or the card.

The visit's page is the resident served with the item grid once a pay code stands for them, the
desk with the PIN box while a printed card waits for its PIN, or the desk with the refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import Principal
from mall.counter import basket, visits
from mall.db import Database
from web.deps import Db
from web.pages.basket import problem_text
from web.pages.common import EXCEPTION_HANDLERS, FORM, see_other, user
from web.pages.counter_desk import chosen_outlet, idle, serve
from web.session import client_ip

ROLES = basket.COUNTER_ROLES


@dataclass
class ScanForm:
    code: str = ""
    pin: str = ""
    visit: str = ""
    """The visit whose printed card waits for this PIN; empty for a new scan."""
    on_behalf_of: int | None = None
    """With ``visit`` and no code: the person at the counter is a proxy (代领) who pays and
    collects for this resident (``lookup`` refuses it without a live grant)."""


def visit_url(token: str, on_behalf_of: int | None = None) -> str:
    """The visit's page; with ``on_behalf_of``, served for the resident a proxy stands for."""
    return f"/counter/visits/{token}" + (f"?behalf={on_behalf_of}" if on_behalf_of else "")


async def noted(
    request: Request[Any, Any, Any],
    db: Database,
    p: Principal,
    token: str,
    problem: str,
    chosen: dict[str, int] | None = None,
    on_behalf_of: int | None = None,
) -> Response[Any]:
    """A refusal kept on the visit, and the 303 back to its page."""
    await visits.note(db, p, token, problem, chosen)
    return see_other(visit_url(token, on_behalf_of))


class CounterVisitController(Controller):
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @post("/counter/scan")
    async def scan(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ScanForm, FORM]
    ) -> Response[Any]:
        """A pay code or card scanned or typed (with the card's PIN, or the PIN alone for the
        card a visit holds): a 303 to the visit's page, which shows what it found or why not."""
        p = await user(request, db, ROLES)
        token = data.visit.strip()
        if token and data.on_behalf_of and not data.code.strip():  # a proxy's "pay for ..."
            await visits.get(db, p, token)  # the user's own visit, or not_found
            return see_other(visit_url(token, data.on_behalf_of))
        if token and not data.code.strip():
            await visits.get(db, p, token)  # the user's own visit, or not_found
        else:
            outlet = await chosen_outlet(request, db, p)
            if outlet is None:
                return see_other("/counter")
            token = await visits.start(db, p, outlet.id)
        try:
            if data.code.strip():
                await visits.scan(db, p, token, data.code, data.pin, ip=client_ip(request))
            else:
                await visits.enter_pin(db, p, token, data.pin, ip=client_ip(request))
        except Exception as exc:  # shown on the visit's page, beside the scan field
            text, _status = problem_text(exc)
            return await noted(request, db, p, token, text)
        return see_other(f"/counter/visits/{token}")

    @get("/counter/visits/{token:str}")
    async def visit(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        token: FromPath[str],
        behalf: FromQuery[int | None] = None,
    ) -> Response[Any]:
        """The visit's page: the resident served, the card waiting for its PIN, or the refusal;
        once its pay code has paid, the desk naming that order (a Back after the receipt)."""
        p = await user(request, db, ROLES)
        found = await visits.get(db, p, token)
        outlet = await chosen_outlet(request, db, p, found.outlet_id)
        if outlet is None:
            return see_other("/counter")
        if found.order_id is not None:
            return await idle(request, db, p, visit=found)
        if found.pay_code is None:
            return await idle(request, db, p, error=found.problem or None, visit=found)
        try:
            return await serve(
                request,
                db,
                p,
                outlet,
                found.pay_code,
                error=found.problem or None,
                chosen=found.chosen,
                visit=token,
                on_behalf_of=behalf,
            )
        except Exception as exc:  # the code expired or was revoked meanwhile: scan again
            text, status = problem_text(exc)
            return await idle(request, db, p, error=text, status=status)
