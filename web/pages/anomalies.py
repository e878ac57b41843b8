"""The street administrator's anomaly page (/admin/anomalies): the list of
``mall.earning.anomalies`` for a window of days chosen by a plain GET form, each line linking to
the award and the resident it is about. Administrators only; reads only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from mall.earning import anomalies
from mall.errors import N_, Invalid, MallError
from web.deps import Db
from web.pages.common import EXCEPTION_HANDLERS, message, no_store, user, when
from web.render import render


def day(value: str) -> date | None:
    """A day from the form (``2026-12-05``); empty is the default, anything else is refused."""
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(N_("Please give the days as year-month-day.")) from None


class AnomalyController(Controller):
    path = "/admin"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/anomalies")
    async def index(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        start: Annotated[str, QueryParameter(name="from")] = "",
        end: Annotated[str, QueryParameter(name="to")] = "",
    ) -> Response[Any]:
        p = await user(request, db, anomalies.ADMIN_ROLES)
        error, status, found = None, 200, None
        try:
            found = await anomalies.find(db, p, day(start), day(end))
        except MallError as exc:
            error, status = message(exc), 400
        return no_store(
            render(
                request,
                "admin/anomalies.html",
                status_code=status,
                me=p,
                found=found,
                start=start,
                end=end,
                error=error,
                when=when,
                repeat_awards=anomalies.REPEAT_AWARDS,
                repeat_days=anomalies.REPEAT_DAYS,
                near_percent=anomalies.NEAR_PERCENT,
            )
        )
