"""Recruitment call pages (招募令) for staff: the list, publishing, an activity's sign-ups and
check-ins (polled), checking in a resident by code, settling, and the full-screen check-in QR
that renews itself; and ``view``, an activity's times and words as every activity page shows them.
The residents' pages are in ``web.pages.my_activities``; the rules live in ``mall.earning``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import activities, checkin, hours, sheet
from mall.earning.values import Activity
from mall.errors import N_, Invalid, MallError
from mall.org.points import PATHS
from mall.people import residents
from web import qr
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    LOCAL_TIME,
    form_status,
    local,
    message,
    no_store,
    see_other,
    user,
    when,
)
from web.pages.earning import ids
from web.pages.rules import PATH_WORDS
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

#: what an activity's status says, by its phase (``phase``)
STATUS_WORDS = {
    "signing_up": N_("Signing up"),
    "under_way": N_("In progress"),
    "ended": N_("Ended"),
    "settled": N_("Settled"),
    "cancelled": N_("Activity cancelled"),
}
#: seconds between two looks at the check-in QR (it changes every ``checkin.WINDOW``)
SCREEN_POLL = 10
ATTENDANCE_POLL = 10


@dataclass
class ActivityForm:
    title: str = ""
    path: str = "adding_to_good"
    points: str = "10"
    hours: str = "0"
    capacity: str = "20"
    date: str = ""
    starts: str = "09:00"
    ends: str = "11:00"
    place: str = ""
    description: str = ""
    community: str = ""


@dataclass
class AttendanceForm:
    code: str = ""
    pin: str = ""


def _number(value: str, message: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise Invalid(message, n=activities.MAX_POINTS) from None


def _moment(date: str, time: str) -> datetime:
    """A date and a time as read on a clock in China."""
    try:
        return datetime.fromisoformat(f"{date.strip()}T{time.strip()}").replace(tzinfo=LOCAL_TIME)
    except ValueError:
        raise Invalid(N_("Please enter the date and the start and end times.")) from None


def phase(found: Activity) -> str:
    """Where an activity stands now: ``signing_up`` before the start, ``under_way`` until the
    end, ``ended`` until settled; or ``settled``, ``cancelled``."""
    if found.status != "open":
        return found.status
    at = activities.now()
    return "signing_up" if at < found.starts_at else "under_way" if at < found.ends_at else "ended"


def view(found: Activity) -> dict[str, Any]:
    """An activity with its times and words as people read them."""
    return {
        **msgspec.structs.asdict(found),
        "hours": found.hours,
        "when": when(found.starts_at),
        "until": local(found.ends_at).strftime("%H:%M")
        if local(found.ends_at).date() == local(found.starts_at).date()
        else when(found.ends_at),
        "path_word": _(PATH_WORDS.get(found.path, found.path)),
        "phase": phase(found),
        "status_word": _(STATUS_WORDS[phase(found)]),
    }


class StaffActivityController(Controller):
    path = "/staff/activities"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, community)
        found = await activities.community_activities(db, p, slug) if slug else []
        return no_store(
            render(
                request,
                "activities/staff_list.html",
                me=p,
                slug=slug,
                found=[view(a) for a in found],
            )
        )

    @get("/new")
    async def new(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        form = ActivityForm(community=community_of(p, community))
        return self._form(request, p, form, None)

    def _form(
        self,
        request: Request[Any, Any, Any],
        p: Principal,
        form: ActivityForm,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        return no_store(
            render(
                request,
                "activities/staff_new.html",
                status_code=status,
                me=p,
                form=form,
                paths=[(code, _(PATH_WORDS[code])) for code in PATHS],
                error=error,
            )
        )

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ActivityForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data.community = community_of(p, data.community)
        try:
            made = await activities.create_activity(
                db,
                p,
                data.community,
                title=data.title,
                path=data.path,
                points=_number(data.points, N_("Points must be a whole number from 1 to {n}.")),
                capacity=_number(data.capacity, N_("Places must be a whole number from 1 to {n}.")),
                starts_at=_moment(data.date, data.starts),
                ends_at=_moment(data.date, data.ends),
                place=data.place,
                description=data.description,
                hours_tenths=hours.tenths(data.hours),
                ip=client_ip(request),
            )
        except MallError as exc:
            return self._form(request, p, data, message(exc), form_status(exc))
        return see_other(f"/staff/activities/{made.id}")

    @get("/{activity_id:int}")
    async def show(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        activity_id: FromPath[int],
        checked: FromQuery[int | None] = None,
        q: FromQuery[str] = "",
        ticked: FromQuery[int | None] = None,
        hours_set: FromQuery[int | None] = None,
        removed: FromQuery[int | None] = None,
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._detail(
            request,
            db,
            p,
            activity_id,
            checked=checked,
            q=q,
            ticked=ticked,
            hours_set=hours_set,
            removed=removed,
        )

    async def _detail(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        activity_id: int,
        *,
        checked: int | None = None,
        error: str | None = None,
        form: AttendanceForm | None = None,
        status: int = 200,
        q: str = "",
        ticked: int | None = None,
        sheet_error: str | None = None,
        hours_set: int | None = None,
        hours_error: str | None = None,
        removed: int | None = None,
    ) -> Response[Any]:
        found = await activities.activity_for_staff(db, p, activity_id)
        done = {s.resident_id for s in found.signups if s.checked_in_at}
        matches = (
            [
                r
                for r in await residents.list_residents(db, p, found.community, query=q, limit=50)
                if r.id not in done
            ]
            if q.strip() and found.status == "open"
            else []
        )
        signups = [
            {
                **msgspec.structs.asdict(s),
                "at": local(s.checked_in_at).strftime("%H:%M") if s.checked_in_at else "",
            }
            for s in found.signups
        ]
        named = next((s["name"] for s in signups if s["resident_id"] == checked), None)
        unmarked = next((s["name"] for s in signups if s["resident_id"] == removed), None)
        return no_store(
            render(
                request,
                "activities/staff_detail.html",
                fragment="attendance",
                status_code=status,
                me=p,
                a=view(found),
                attended=[s for s in signups if s["checked_in_at"]],
                expected=[s for s in signups if s["status"] == "confirmed" and not s["at"]],
                waiting=[s for s in signups if s["status"] == "waiting" and not s["at"]],
                checked=named,
                removed=unmarked,
                error=error,
                form=form or AttendanceForm(),
                poll=ATTENDANCE_POLL,
                q=q,
                matches=matches,
                ticked=ticked,
                sheet_error=sheet_error,
                hours_set=hours_set,
                hours_error=hours_error,
            )
        )

    @post("/{activity_id:int}/attendance/by-name")
    async def attendance_by_name(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        """Residents ticked off the paper sign-in sheet, found by name."""
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        chosen = ids(form.getall("resident", []))
        try:
            done = await sheet.record_attendance_by_name(
                db, p, activity_id, chosen, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._detail(
                request,
                db,
                p,
                activity_id,
                q=form.get("q", ""),
                sheet_error=message(exc),
                status=form_status(exc),
            )
        return see_other(f"/staff/activities/{activity_id}?ticked={len(done.checked_in)}")

    @post("/{activity_id:int}/hours")
    async def correct_hours(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        """One attendee's volunteer hours, corrected before settlement."""
        p = await user(request, db, STAFF_ROLES)
        form = await request.form()
        try:
            chosen = ids([form.get("resident", "")])
            if len(chosen) != 1:
                raise Invalid(N_("Please choose an attendee."))
            await sheet.set_hours(
                db,
                p,
                activity_id,
                chosen[0],
                hours.tenths(form.get("hours", "")),
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._detail(
                request, db, p, activity_id, hours_error=message(exc), status=form_status(exc)
            )
        return see_other(f"/staff/activities/{activity_id}?hours_set=1")

    @post("/{activity_id:int}/attendance")
    async def attendance(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        activity_id: FromPath[int],
        data: Annotated[AttendanceForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            done = await checkin.record_attendance(
                db,
                p,
                activity_id,
                data.code.strip(),
                data.pin.strip() or None,
                ip=client_ip(request),
            )
        except MallError as exc:
            return await self._detail(
                request, db, p, activity_id, error=message(exc), form=data, status=form_status(exc)
            )
        return see_other(f"/staff/activities/{activity_id}?checked={done.resident_id}")

    @get("/{activity_id:int}/settle")
    async def confirm_settle(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return await self._confirm(request, db, p, activity_id, None)

    async def _confirm(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        activity_id: int,
        error: str | None,
        status: int = 200,
    ) -> Response[Any]:
        found = await activities.activity_for_staff(db, p, activity_id)
        return no_store(
            render(
                request,
                "activities/staff_settle.html",
                status_code=status,
                me=p,
                a=view(found),
                total=found.checked_in * found.points,
                error=error,
            )
        )

    @post("/{activity_id:int}/settle")
    async def settle(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            done = await checkin.settle(db, p, activity_id, ip=client_ip(request))
        except MallError as exc:
            return await self._confirm(request, db, p, activity_id, message(exc), form_status(exc))
        if done.status == "pending_approval" and done.award_id is not None:
            return see_other(f"/staff/awards/{done.award_id}")  # waits for a second pair of eyes
        return see_other(f"/staff/activities/{activity_id}")

    @get("/{activity_id:int}/screen")
    async def screen(
        self, request: Request[Any, Any, Any], db: Db, activity_id: FromPath[int]
    ) -> Response[Any]:
        """The full-screen check-in QR; htmx asks for the ``qr`` block again every few seconds."""
        p = await user(request, db, STAFF_ROLES)
        found = await activities.activity_for_staff(db, p, activity_id)
        opens = found.starts_at - checkin.SCREEN_OPENS
        early = found.status == "open" and activities.now() < opens
        shown = (
            await checkin.checkin_code(db, p, activity_id)
            if found.status == "open" and not early
            else None
        )
        return no_store(
            render(
                request,
                "activities/screen.html",
                fragment="qr",
                me=p,
                a=view(found),
                shown=shown,
                qr=await qr.render(shown.url, cache=True) if shown else None,
                until=local(shown.expires_at).strftime("%H:%M:%S") if shown else "",
                early=early,
                opens=when(opens),
                poll=SCREEN_POLL,
                window=checkin.WINDOW,
            )
        )


ROUTES: list[ControllerRouterHandler] = [StaffActivityController]
