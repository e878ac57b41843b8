"""Staff pages for reversing an award (撤销): a confirmation page with the reason, then the
reversal itself (POST → 303 back to the award, which then shows who reversed it, when and why).
Works without JavaScript; the form carries a hidden idempotency key, so a double tap reverses once.
The rule lives in ``mall.earning.reversals``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

import ledger
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import award_records, reversals
from mall.errors import N_, Invalid, MallError
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    form_status,
    message,
    no_store,
    see_other,
    user,
    when,
)
from web.pages.rules import PATH_WORDS
from web.render import render
from web.session import client_ip


class ReversalController(Controller):
    path = "/staff/awards"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _confirm_page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        award_id: int,
        *,
        reason: str = "",
        key: str = "",
        error: str | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        found = await award_records.get_award(db, p, award_id)
        return no_store(
            render(
                request,
                "earning/reverse.html",
                status_code=status_code,
                me=p,
                award=found,
                reason=reason,
                key=key or new_key(),
                error=error,
                max_reason=reversals.MAX_REASON,
                when=when,
                paths=PATH_WORDS,
            )
        )

    @get("/{award_id:int}/reverse")
    async def confirm(
        self, request: Request[Any, Any, Any], db: Db, award_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._confirm_page(request, db, p, award_id)

    @post("/{award_id:int}/reverse")
    async def reverse(
        self, request: Request[Any, Any, Any], db: Db, award_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        reason, key = str(form.get("reason", "")), str(form.get("key", ""))
        try:
            idem = await idempotency(request, p.label())
            await reversals.reverse_award(
                db,
                p,
                award_id,
                reason,
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except (MallError, ledger.IdempotencyKeyReused) as exc:
            mall_error = isinstance(exc, MallError)
            shown = (
                exc if isinstance(exc, MallError) else Invalid(N_("This form was already sent."))
            )
            return await self._confirm_page(
                request,
                db,
                p,
                award_id,
                reason=reason,
                key=key if mall_error else "",
                error=message(shown),
                status_code=form_status(shown) if shown.status != 409 else 409,
            )
        return see_other(f"/staff/awards/{award_id}")
