"""Communities, their grids and their points budget (社区、网格、预算)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from mall.org import communities
from web.api.callers import STAFF, allow
from web.api.fields import IdempotencyKey, Name, Slug
from web.deps import Caller, Db
from web.idempotency import idempotency
from web.session import client_ip


class NewCommunity(msgspec.Struct):
    slug: Name
    name: Name


class Community(msgspec.Struct):
    id: int
    slug: str
    name: str


class NewGrid(msgspec.Struct):
    code: Name
    name: Name


class Grid(msgspec.Struct):
    id: int
    code: str
    name: str


class NewGrant(msgspec.Struct):
    points: int
    memo: Name = ""


class Granted(msgspec.Struct):
    balance: int
    """The community's budget right after this grant."""
    journal_id: int


class Budget(msgspec.Struct):
    balance: int
    """What is left to award."""
    granted: int
    """Everything the street has granted."""
    issued: int
    """Everything awarded to residents so far."""


class CommunityController(Controller):
    tags = ["organisation"]

    @post(
        "/communities",
        dependencies=allow("admin"),
        summary="Create a community",
        description=(
            "Street administrators only. Opens the community's ledger book and chart of "
            "accounts. `slug` is 2 to 63 lowercase letters, digits and dashes; a taken one "
            "is `already_exists`."
        ),
    )
    async def create(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, data: JSONBody[NewCommunity]
    ) -> Community:
        made = await communities.create_community(
            db, p, data.slug, data.name, ip=client_ip(request)
        )
        return msgspec.convert(made, Community, from_attributes=True)

    @post(
        "/communities/{slug:str}/grids",
        dependencies=allow(*STAFF),
        summary="Create a grid",
        description=(
            "Staff of the community and administrators. `code` is unique within the community."
        ),
    )
    async def create_grid(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewGrid],
    ) -> Grid:
        made = await communities.create_grid(
            db,
            p,
            slug,
            data.code,
            data.name,
            ip=client_ip(request),
        )
        return msgspec.convert(made, Grid, from_attributes=True)

    @post(
        "/communities/{slug:str}/budget/grants",
        dependencies=allow("admin"),
        summary="Grant points to a community's budget",
        description=(
            "Street administrators only; needs an `Idempotency-Key` header. The same key "
            "with the same body returns the first response again and grants nothing more; "
            "with another body it is `idempotency_key_reused`."
        ),
    )
    async def grant(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        data: JSONBody[NewGrant],
        idempotency_key: IdempotencyKey,  # declared for the OpenAPI document; mapped below
    ) -> Granted:
        idem = await idempotency(request, principal=p.label())
        made = await communities.grant_budget(
            db,
            p,
            slug,
            data.points,
            data.memo,
            idempotency_key=idem.key,
            req_hash=idem.request_hash,
            ip=client_ip(request),
        )
        return Granted(balance=made.balance, journal_id=made.journal_id)

    @get(
        "/communities/{slug:str}/budget",
        dependencies=allow(*STAFF),
        summary="A community's budget",
        description=(
            "Staff of the community and administrators: granted, issued and what is left."
        ),
    )
    async def budget(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> Budget:
        found = await communities.budget(db, p, slug)
        return Budget(balance=found.balance, granted=found.granted, issued=found.issued)
