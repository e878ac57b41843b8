"""The signed-in resident's own account: balance, pay code and passbook (我的)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader

from mall.people import credentials, residents
from web.api.callers import RESIDENT, allow
from web.api.fields import Before, Limit
from web.api.residents import Passbook, Resident, passbook, resident
from web.deps import Caller, Db
from web.session import own_resident_id


class PayCode(msgspec.Struct):
    code: str
    """20 digits: show as a QR code, with the digits for typing."""
    expires_at: datetime


class MeController(Controller):
    tags = ["me"]
    dependencies = allow(*RESIDENT)
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/me",
        summary="My account",
        description=(
            "The signed-in resident: balance, points held for reservations, and available."
        ),
    )
    async def show(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> Resident:
        return resident(await residents.get_resident(db, p, own_resident_id(p)))

    @get(
        "/me/pay-code",
        summary="A fresh pay code",
        description=("A new code on every call, valid for about a minute and for one checkout."),
    )
    async def pay_code(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> PayCode:
        made = await credentials.new_pay_code(db, p)
        return msgspec.convert(made, PayCode, from_attributes=True)

    @get(
        "/me/passbook",
        summary="My passbook",
        description=("Every movement of my points, newest first, with the balance after each."),
    )
    async def passbook(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        limit: Limit = 20,
        before: Before = None,
    ) -> Passbook:
        statement = await residents.passbook(db, p, own_resident_id(p), limit=limit, before=before)
        return passbook(statement)
