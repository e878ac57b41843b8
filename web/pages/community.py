"""The community around the supermarket as pages (issue #20): a building head's phone page (their
buildings' residents, proposing awards that wait for staff), the resident's own proxies (代领),
and staff naming or ending a resident's proxies and putting them in a household. Every rule
lives in ``mall.people`` and ``mall.earning``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.types import ControllerRouterHandler

import ledger
from mall.access import STAFF_ROLES, Principal
from mall.db import Database
from mall.earning import proposals
from mall.errors import N_, Invalid, MallError
from mall.people import heads, households, proxies, residents, users
from web.deps import Db
from web.idempotency import idempotency, new_key
from web.pages.common import (
    EXCEPTION_HANDLERS,
    FORM,
    message,
    no_store,
    resident,
    see_other,
    user,
    when,
)
from web.pages.earning import ids
from web.pages.staff import resident_view
from web.render import render
from web.session import client_ip, own_resident_id

#: between the building numbers a staff member types: commas (either width), 、 and spaces
BUILDINGS_SPLIT = re.compile(r"[\s,，、]+")


@dataclass
class ProxyForm:
    name: str = ""
    phone: str = ""


@dataclass
class StaffProxyForm:
    proxy_id: int = 0


@dataclass
class HeadForm:
    username: str = ""
    password: str = ""
    buildings: str = ""
    """Building numbers, separated by commas or spaces (3, 5 or 3号楼 5号楼 as staff write them)."""


@dataclass
class HouseholdForm:
    address: str = ""
    household_id: int = 0


class HeadPages(Controller):
    """A building head (楼栋长) on their phone."""

    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        *,
        sent: bool = False,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        head = heads.head(p)
        return no_store(
            render(
                request,
                "head/home.html",
                status_code=status,
                me=head,
                buildings=sorted(head.buildings),
                own=head.resident_id,
                neighbours=await heads.neighbours(db, head),
                rules=await proposals.head_rules(db, head),
                key=new_key(),
                sent=sent,
                error=error,
            )
        )

    @get("/head")
    async def home(
        self, request: Request[Any, Any, Any], db: Db, sent: FromQuery[int | None] = None
    ) -> Response[Any]:
        p = await user(request, db, ("building_head",))
        return await self._page(request, db, p, sent=sent is not None)

    @post("/head/awards")
    async def propose(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, ("building_head",))
        form = await request.form()
        chosen = ids(form.getall("resident", []))
        try:
            idem = await idempotency(request, p.label())
            made = await proposals.propose(
                db,
                p,
                p.community_slug or "",
                str(form.get("rule", "")),
                chosen,
                str(form.get("memo", "")),
                idempotency_key=idem.key,
                req_hash=idem.request_hash,
                ip=client_ip(request),
            )
        except (MallError, ledger.IdempotencyKeyReused) as exc:
            text = (
                message(exc)
                if isinstance(exc, MallError)
                else message(Invalid(N_("This form was already sent with other choices.")))
            )
            status = exc.status if isinstance(exc, MallError) else 422
            return await self._page(request, db, p, error=text, status=status)
        return see_other(f"/head?sent={made.id}")

    @get("/head/proposals")
    async def my_proposals(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        """What became of the head's own proposals, newest first."""
        p = await user(request, db, ("building_head",))
        return no_store(
            render(
                request,
                "head/proposals.html",
                me=p,
                proposals=[(x, when(x.created_at)) for x in await proposals.my_proposals(db, p)],
            )
        )


class ProxyPages(Controller):
    """A resident's own proxies, and staff acting for a resident."""

    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _mine(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        found = await proxies.grants(db, p, own_resident_id(p))
        return no_store(
            render(request, "resident/proxies.html", status_code=status, grants=found, error=error)
        )

    @get("/me/proxies")
    async def mine(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        return await self._mine(request, db, await resident(request, db))

    @post("/me/proxies")
    async def grant_mine(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ProxyForm, FORM]
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            await proxies.grant_by_phone(
                db, p, own_resident_id(p), data.name, data.phone, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._mine(request, db, p, error=message(exc), status=exc.status)
        return see_other("/me/proxies")

    @post("/me/proxies/{proxy_id:int}/end")
    async def end_mine(
        self, request: Request[Any, Any, Any], db: Db, proxy_id: FromPath[int]
    ) -> Response[Any]:
        p = await resident(request, db)
        try:
            await proxies.end(db, p, own_resident_id(p), proxy_id, ip=client_ip(request))
        except MallError as exc:
            return await self._mine(request, db, p, error=message(exc), status=exc.status)
        return see_other("/me/proxies")

    @post("/staff/residents/{resident_id:int}/proxies")
    async def grant(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[StaffProxyForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await proxies.grant(db, p, resident_id, data.proxy_id, ip=client_ip(request))
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=exc.status
            )
        return see_other(f"/staff/residents/{resident_id}")

    @post("/staff/residents/{resident_id:int}/proxies/{proxy_id:int}/end")
    async def end(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        proxy_id: FromPath[int],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await proxies.end(db, p, resident_id, proxy_id, ip=client_ip(request))
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=exc.status
            )
        return see_other(f"/staff/residents/{resident_id}")

    @post("/staff/residents/{resident_id:int}/building-head")
    async def make_head(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[HeadForm, FORM],
    ) -> Response[Any]:
        """The resident becomes a building head (楼栋长) with an account of their own, for the
        buildings named; the community is the resident's (another community's record is 404)."""
        p = await user(request, db, STAFF_ROLES)
        try:
            found = await residents.get_resident(db, p, resident_id)
            await users.create_user(
                db,
                p,
                data.username.strip(),
                data.password,
                "building_head",
                found.community,
                ip=client_ip(request),
                resident_id=resident_id,
                buildings=BUILDINGS_SPLIT.split(data.buildings.strip()) if data.buildings else [],
            )
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=exc.status
            )
        return see_other(f"/staff/residents/{resident_id}?head=1")

    @post("/staff/residents/{resident_id:int}/household")
    async def household(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        resident_id: FromPath[int],
        data: Annotated[HouseholdForm, FORM],
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        try:
            await households.assign(
                db, p, resident_id, data.household_id or None, ip=client_ip(request)
            )
        except MallError as exc:
            return await resident_view(
                request, db, p, resident_id, error=message(exc), status=exc.status
            )
        return see_other(f"/staff/residents/{resident_id}")


class HouseholdPages(Controller):
    """Staff list and register a community's households (户)."""

    path = "/staff/households"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    async def _list(
        self,
        request: Request[Any, Any, Any],
        db: Database,
        p: Principal,
        *,
        error: str | None = None,
        status: int = 200,
    ) -> Response[Any]:
        found = await households.list_households(db, p, p.community_slug or "")
        return no_store(
            render(
                request,
                "staff/households.html",
                status_code=status,
                me=p,
                households=found,
                error=error,
            )
        )

    @get("/")
    async def index(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        return await self._list(request, db, await user(request, db, ("staff",)))

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[HouseholdForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, ("staff",))
        try:
            await households.create_household(
                db, p, p.community_slug or "", data.address, ip=client_ip(request)
            )
        except MallError as exc:
            return await self._list(request, db, p, error=message(exc), status=exc.status)
        return see_other("/staff/households")


ROUTES: list[ControllerRouterHandler] = [HeadPages, ProxyPages, HouseholdPages]
