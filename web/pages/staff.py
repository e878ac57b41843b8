"""Community staff pages: find and register residents, a resident's page, and the audit log.
Volunteers and residents get 403; another community's resident is 404 (``mall.access``).
Printing a resident's activation QR or card is in ``prints``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery

from mall.access import STAFF_ROLES, Principal, audit
from mall.db import Database
from mall.errors import N_, MallError
from mall.people import cards, households, passbooks, proxies, residents
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    form_status,
    message,
    no_store,
    passbook_rows,
    see_other,
    user,
    when,
)
from web.render import render
from web.session import client_ip

#: audit action → what staff read in the log
ACTIONS = {
    "community.create": N_("Community created"),
    "grid.create": N_("Grid created"),
    "budget.grant": N_("Budget granted"),
    "user.create": N_("User created"),
    "user.outlets": N_("Volunteer's outlets chosen"),
    "user.password": N_("Password changed"),
    "user.own_record": N_("User's own resident record linked"),
    "user.deactivate": N_("Account switched off"),
    "user.reactivate": N_("Account switched on again"),
    "resident.create": N_("Resident registered"),
    "resident.activation": N_("Activation QR issued"),
    "resident.activated": N_("Phone bound by activation QR"),
    "resident.card": N_("Printed card issued"),
    "resident.update": N_("Resident's record corrected"),
    "resident.close": N_("Resident's record closed"),
    "resident.merge": N_("Duplicate record merged"),
    "resident.import": N_("Resident roster imported"),
    "opening.upload": N_("Opening balances uploaded"),
    "opening.approve": N_("Opening balances approved and credited"),
    "opening.reject": N_("Opening balances rejected"),
    "card.wrong_pin": N_("Wrong PIN typed for a printed card"),
    "card.approve": N_("Printed card approved by a second staff member"),
    "card.unlock": N_("Printed card unlocked after wrong PINs"),
    "rule.create": N_("Points rule created"),
    "award.create": N_("Points awarded"),
    "award.approve": N_("Award approved"),
    "award.reject": N_("Award rejected"),
    "award.reverse": N_("Award reversed"),
    "submission.decide": N_("Submission decided"),
    "submission.deadlines": N_("Submission deadlines changed"),
    "activity.create": N_("Recruitment call published"),
    "activity.attendance": N_("Resident checked in by staff"),
    "activity.settle": N_("Recruitment call settled"),
    "activity.hours": N_("Attendee's volunteer hours corrected"),
    "resident.ranking": N_("Resident opted in to or out of the ranking"),
    "outlet.create": N_("Outlet opened"),
    "donor.create": N_("Donor added"),
    "item.create": N_("Item added"),
    "item.update": N_("Item changed"),
    "item.picture": N_("Item picture uploaded"),
    "stock.receipt": N_("Goods received"),
    "stock.donation": N_("Donation received"),
    "stock.adjustment": N_("Stock adjusted"),
    "stock.stocktake": N_("Stocktake posted"),
    "order.refund": N_("Order refunded"),
    "policy.update": N_("Trust policy changed"),
    "objection.file": N_("Objection to the notice filed by a resident"),
    "objection.uphold": N_("Objection upheld: award reversed"),
    "objection.dismiss": N_("Objection dismissed"),
    "award.propose": N_("Award proposed by a building head"),
    "activity.edit": N_("Activity changed"),
    "activity.cancel": N_("Activity cancelled"),
    "activity.checkin_removed": N_("Wrong check-in removed"),
    "announcement.publish": N_("Announcement published"),
    "proxy.grant": N_("Proxy named"),
    "proxy.end": N_("Proxy ended"),
    "household.create": N_("Household registered"),
    "household.assign": N_("Resident's household set"),
}


#: which records the residents list shows → what staff read
STATUS_WORDS = {
    "all": N_("All records"),
    "open": N_("Open records only"),
    "closed": N_("Closed records only"),
}


@dataclass
class ResidentForm:
    name: str = ""
    phone: str = ""
    grid: str = ""
    community: str = ""
    building: str = ""
    unit: str = ""


def community_of(p: Principal, asked: str = "") -> str:
    """Staff work in their own community; a street administrator names one."""
    return p.community_slug or asked.strip()


async def resident_view(
    request: Request[Any, Any, Any],
    db: Database,
    p: Principal,
    resident_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response[Any]:
    """A resident's page for staff: the record, their printed card (waiting for approval, and
    who issued and approved it), recent passbook entries."""
    resident = await residents.get_resident(db, p, resident_id)
    statement = await passbooks.passbook(db, p, resident_id, limit=10)
    card = await cards.card_of(db, p, resident_id)
    grants = await proxies.grants(db, p, resident_id)
    homes = await households.list_households(db, p, resident.community)
    home = next((h for h in homes if any(m.id == resident_id for m in h.members)), None)
    return no_store(
        render(
            request,
            "staff/resident.html",
            grants=grants,
            households=homes,
            household=home,
            status_code=status,
            me=p,
            resident=resident,
            closed_on=when(resident.closed_at) if resident.closed_at else "",
            rows=passbook_rows(statement.entries),
            card=card,
            card_issued=when(card.issued_at) if card else "",
            card_approved=when(card.approved_at) if card and card.approved_at else "",
            error=error,
        )
    )


class StaffController(Controller):
    path = "/staff"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/residents")
    async def residents_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        q: FromQuery[str] = "",
        grid: FromQuery[str] = "",
        community: FromQuery[str] = "",
        status: FromQuery[str] = "all",
        offset: FromQuery[int] = 0,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        status = status if status in residents.STATUSES else "all"
        page = (
            await residents.search_residents(
                db, p, slug, query=q, grid=grid.strip() or None, status=status, offset=offset
            )
            if slug
            else None
        )
        asked: dict[str, str | int] = {"q": q, "grid": grid}
        if not p.community_slug:
            asked["community"] = slug

        def link(**more: str | int) -> str:
            return "/staff/residents?" + urlencode({**asked, **more})

        statuses = [(code, _(STATUS_WORDS[code]), link(status=code)) for code in residents.STATUSES]
        more = None
        if page is not None and page.next is not None:
            more = link(status=status, offset=page.next)
        return no_store(
            render(
                request,
                "staff/residents.html",
                fragment="results",
                me=p,
                slug=slug,
                q=q,
                grid=grid,
                found=page.residents if page else [],
                status=status,
                statuses=statuses,
                offset=offset,
                next=more,
            )
        )

    @get("/residents/new")
    async def new_resident_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = ResidentForm(community=community_of(p, community))
        return no_store(render(request, "staff/resident_new.html", me=p, form=form, error=None))

    @post("/residents")
    async def register_resident(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ResidentForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data.community = community_of(p, data.community)
        try:
            created = await residents.create_resident(
                db,
                p,
                data.community,
                data.name,
                data.phone,
                data.grid.strip() or None,
                building=data.building,
                unit=data.unit,
                ip=client_ip(request),
            )
        except MallError as exc:
            return no_store(
                render(
                    request,
                    "staff/resident_new.html",
                    status_code=form_status(exc),
                    me=p,
                    form=data,
                    error=message(exc),
                )
            )
        return see_other(f"/staff/residents/{created.id}")

    @get("/residents/{resident_id:int}")
    async def resident_page(
        self, request: Request[Any, Any, Any], db: Db, resident_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await resident_view(request, db, p, resident_id)

    @get("/audit")
    async def audit_page(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        before: FromQuery[int | None] = None,
        community: FromQuery[str] = "",
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        page = await audit.community_log(db, p, slug, limit=50, before=before) if slug else None
        rows = [
            {
                "when": when(e.at),
                "actor": e.actor,
                "action": _(ACTIONS[e.action]) if e.action in ACTIONS else e.action,
                "target": e.target,
                "ip": e.ip,
            }
            for e in (page.entries if page else [])
        ]
        return no_store(
            render(
                request,
                "staff/audit.html",
                me=p,
                slug=slug,
                rows=rows,
                next=page.next if page else None,
            )
        )
