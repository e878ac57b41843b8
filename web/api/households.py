"""Households and proxies (户与代领, API.md "Community"): staff group residents into households;
a resident, or staff for them, names a proxy who may collect and pay for them at the counter.
The rules live in ``mall.people.households`` and ``mall.people.proxies``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from msgspec import Meta

from mall.earning import proposals
from mall.people import heads, households, proxies
from web.api.callers import RESIDENT, STAFF, allow
from web.api.fields import MAX_ID, Id, Limit, Name, Slug
from web.deps import Caller, Db
from web.session import client_ip, own_resident_id

ResidentId = Annotated[int, Meta(ge=1, le=MAX_ID)]
Address = Annotated[str, Meta(min_length=1, max_length=200)]


class NewHousehold(msgspec.Struct):
    address: Address
    grid: Name | None = None
    """The code of a grid of the community."""


class Member(msgspec.Struct):
    id: int
    name: str
    building: str | None
    unit: str | None


class Household(msgspec.Struct):
    id: int
    address: str
    grid: str | None
    members: list[Member]


class HouseholdList(msgspec.Struct):
    households: list[Household]


class Membership(msgspec.Struct):
    household_id: ResidentId | None
    """The household of the resident's community; `null` takes them out of theirs."""


class NewProxy(msgspec.Struct):
    proxy_id: ResidentId
    """A resident of the same community: family member or neighbour."""


class Grant(msgspec.Struct):
    resident_id: int
    resident_name: str
    proxy_id: int
    proxy_name: str
    granted_at: datetime


class Grants(msgspec.Struct):
    proxies: list[Grant]
    """Who may collect and pay for this resident."""
    principals: list[Grant]
    """For whom this resident may collect and pay."""


class HouseholdController(Controller):
    tags = ["households"]
    dependencies = allow(*STAFF)
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/communities/{slug:str}/households",
        summary="Register a household",
        description="Staff of the community. An address once per community (`already_exists`).",
    )
    async def create(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewHousehold],
    ) -> Household:
        made = await households.create_household(
            db, p, slug, data.address, data.grid, ip=client_ip(request)
        )
        return msgspec.convert(made, Household, from_attributes=True)

    @get(
        "/communities/{slug:str}/households",
        summary="The community's households",
        description="Staff of the community: every household by address, with its members.",
    )
    async def list(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> HouseholdList:
        found = await households.list_households(db, p, slug)
        return HouseholdList(
            households=[msgspec.convert(h, Household, from_attributes=True) for h in found]
        )

    @put(
        "/residents/{resident_id:int}/household",
        status_code=200,
        summary="Put a resident in a household",
        description="Staff of the resident's community; the household must be of that community.",
    )
    async def assign(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[Membership],
    ) -> Membership:
        await households.assign(db, p, resident_id, data.household_id, ip=client_ip(request))
        return data


def _grants(found: proxies.Grants) -> Grants:
    return msgspec.convert(found, Grants, from_attributes=True)


class ProxyController(Controller):
    tags = ["proxies"]
    cache_control = CacheControlHeader(no_store=True)

    @post(
        "/residents/{resident_id:int}/proxies",
        dependencies=allow(*STAFF),
        summary="Name a proxy for a resident (代领)",
        description=(
            "Staff of the resident's community. The proxy, a resident of the same community, "
            "may then collect reservations and pay at the counter for them with their own code. "
            "A live grant of the same pair is `already_exists`; closed records `account_closed`."
        ),
    )
    async def grant(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        resident_id: Id,
        data: JSONBody[NewProxy],
    ) -> Grant:
        made = await proxies.grant(db, p, resident_id, data.proxy_id, ip=client_ip(request))
        return msgspec.convert(made, Grant, from_attributes=True)

    @get(
        "/residents/{resident_id:int}/proxies",
        dependencies=allow(*STAFF),
        summary="A resident's proxies",
        description="Staff of the resident's community: live grants both ways.",
    )
    async def show(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, resident_id: Id
    ) -> Grants:
        return _grants(await proxies.grants(db, p, resident_id))

    @delete(
        "/residents/{resident_id:int}/proxies/{proxy_id:int}",
        dependencies=allow(*STAFF),
        summary="End a proxy's grant",
        description="Staff of the resident's community; no live grant is `not_found`.",
    )
    async def end(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, resident_id: Id, proxy_id: Id
    ) -> None:
        await proxies.end(db, p, resident_id, proxy_id, ip=client_ip(request))

    @post(
        "/me/proxies",
        dependencies=allow(*RESIDENT),
        summary="Name my proxy (代领)",
        description="A resident of my community who may collect and pay for me at the counter.",
    )
    async def grant_mine(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[NewProxy]
    ) -> Grant:
        made = await proxies.grant(db, p, own_resident_id(p), data.proxy_id, ip=client_ip(request))
        return msgspec.convert(made, Grant, from_attributes=True)

    @get(
        "/me/proxies",
        dependencies=allow(*RESIDENT),
        summary="My proxies",
        description="Who may collect and pay for me, and for whom I may.",
    )
    async def mine(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> Grants:
        return _grants(await proxies.grants(db, p, own_resident_id(p)))

    @delete(
        "/me/proxies/{proxy_id:int}",
        dependencies=allow(*RESIDENT),
        summary="End my proxy's grant",
        description="At once; no live grant is `not_found`.",
    )
    async def end_mine(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, proxy_id: Id
    ) -> None:
        await proxies.end(db, p, own_resident_id(p), proxy_id, ip=client_ip(request))


class Neighbour(msgspec.Struct):
    id: int
    name: str
    building: str
    unit: str | None


class HeadRule(msgspec.Struct):
    code: str
    name: str
    path: str
    points: int


class MyBuildings(msgspec.Struct):
    buildings: list[str]
    residents: list[Neighbour]
    """The open records of my buildings: whom I may propose points for (not myself)."""
    rules: list[HeadRule]
    """The rules I may propose by (`POST /awards`, always `pending_approval`)."""


class ProposedResident(msgspec.Struct):
    id: int
    display_name: str
    """Masked (张*明)."""


class HeadProposal(msgspec.Struct):
    id: int
    rule_name: str
    points_each: int
    total: int
    memo: str
    status: str
    """`pending_approval`, `posted` (approved), `rejected` or `reversed` (approved, taken back)."""
    rejection_reason: str
    """The staff member's reason when `rejected`; "" otherwise."""
    created_at: datetime
    decided_at: datetime | None
    residents: list[ProposedResident]


class MyProposals(msgspec.Struct):
    proposals: list[HeadProposal]
    """Newest first."""


class BuildingHeadController(Controller):
    tags = ["community"]
    dependencies = allow("building_head")
    cache_control = CacheControlHeader(no_store=True)

    @get(
        "/me/buildings",
        summary="My buildings (楼栋长)",
        description="A building head: their buildings, those buildings' residents, the rules.",
    )
    async def mine(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> MyBuildings:
        found = await heads.neighbours(db, p)
        rules = await proposals.head_rules(db, p)
        return MyBuildings(
            buildings=sorted(heads.head(p).buildings),
            residents=[msgspec.convert(n, Neighbour, from_attributes=True) for n in found],
            rules=[HeadRule(code=r.code, name=r.name, path=r.path, points=r.points) for r in rules],
        )

    @get(
        "/me/proposals",
        summary="My proposals (楼栋长)",
        description=(
            "A building head: the awards they proposed, newest first, and what became of them "
            "(`pending_approval`, `posted`, `rejected` with the reason, `reversed`); never "
            "another head's."
        ),
    )
    async def my_proposals(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, limit: Limit = 50
    ) -> MyProposals:
        found = await proposals.my_proposals(db, p, limit=limit)
        return MyProposals(
            proposals=[msgspec.convert(x, HeadProposal, from_attributes=True) for x in found]
        )
