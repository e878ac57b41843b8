"""Opening balances (期初积分) through the API, an addition to API.md v1.1: one staff member uploads
the paper passbooks' balances, a different one approves the batch, and only then is anything
posted."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody
from litestar.types import ControllerRouterHandler
from msgspec import Meta

from mall.earning import opening_approval, openings
from mall.people import sheets
from web.api.callers import STAFF, allow
from web.api.fields import Id, Slug
from web.api.roster import BODY_LIMIT, DryRun, RowError, row_errors, upload
from web.deps import Caller, Db
from web.session import client_ip


class Line(msgspec.Struct):
    row: int
    """The spreadsheet's own row number."""
    resident_id: int
    name: str
    passbook: str
    points: int


class Uploaded(msgspec.Struct):
    batch_id: int | None
    """Null on a dry run, or when a row is bad (then nothing was kept)."""
    status: str | None
    """``pending_approval`` until a different staff member approves the batch."""
    valid: int
    total: int
    errors: list[RowError]
    more_errors: int


class Batch(msgspec.Struct):
    id: int
    community: str
    status: str
    """``pending_approval``, ``approved`` (posted) or ``rejected``."""
    filename: str
    residents: int
    total: int
    created_by: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str
    lines: list[Line]


class BatchList(msgspec.Struct):
    batches: list[Batch]


class Decided(msgspec.Struct):
    id: int
    status: str
    posted: int
    total: int


class Rejection(msgspec.Struct):
    reason: Annotated[str, Meta(max_length=200)]


class OpeningController(Controller):
    tags = ["transparency"]

    @post(
        "/communities/{slug:str}/opening-balances",
        dependencies=allow(*STAFF),
        status_code=200,
        request_max_body_size=BODY_LIMIT,
        cache_control=CacheControlHeader(no_store=True),
        summary="Upload opening balances (期初积分) from the paper passbooks",
        description=(
            "Staff of the community (a user account: administrators acting as the server "
            "cannot). Multipart, field `file`: an `.xlsx` or `.csv` with 存折号/passbook, "
            "积分/points and the resident by 姓名/name and 电话/phone or by 居民编号/resident. "
            "Each bad row is in `errors` (unknown resident, points not a whole number 1 to "
            f"{openings.MAX_POINTS}, a resident already given an opening balance or waiting "
            "for one, a resident twice in the file, a formula) and then nothing is kept. "
            "Otherwise the batch is `pending_approval` until a different staff member approves "
            "it; `dry_run=true` keeps nothing. The file's limits are as for the roster import "
            f"({sheets.MAX_BYTES // 2**20} MB, {sheets.MAX_ROWS} rows)."
        ),
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        dry_run: DryRun = False,
    ) -> Uploaded:
        data, name = await upload(request)
        done = await openings.upload(
            db, p, slug, data, name, dry_run=dry_run, ip=client_ip(request)
        )
        return Uploaded(
            batch_id=done.batch_id,
            status=done.status,
            valid=done.valid,
            total=done.total,
            errors=row_errors(done.errors),
            more_errors=done.more_errors,
        )

    @get(
        "/communities/{slug:str}/opening-balances",
        dependencies=allow(*STAFF),
        cache_control=CacheControlHeader(no_store=True),
        summary="A community's batches of opening balances",
        description="Staff of the community: waiting batches first, then the newest (no lines).",
    )
    async def index(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, slug: Slug
    ) -> BatchList:
        found = await openings.batches(db, p, slug)
        return BatchList(batches=[msgspec.convert(b, Batch, from_attributes=True) for b in found])

    @get(
        "/opening-balances/{batch_id:int}",
        dependencies=allow(*STAFF),
        cache_control=CacheControlHeader(no_store=True),
        summary="One batch of opening balances with its lines",
        description="Staff of the batch's community; another community's batch is `not_found`.",
    )
    async def show(self, request: Request[Any, Any, Any], db: Db, p: Caller, batch_id: Id) -> Batch:
        found = await openings.batch(db, p, batch_id)
        return msgspec.convert(found, Batch, from_attributes=True)

    @post(
        "/opening-balances/{batch_id:int}/approve",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Approve a batch of opening balances: post them",
        description=(
            "A staff member of the community other than the uploader (the uploader is "
            "`forbidden`; a user whose own resident record is in the batch is `self_dealing`). "
            "Each resident's points go from the budget by one journal, all or none: a budget "
            "short of the total is `budget_exhausted`, a resident given an opening balance "
            "meanwhile `already_exists`, a closed record `account_closed`, a second approval "
            "`already_exists`; another community's batch is `not_found`."
        ),
    )
    async def approve(
        self, request: Request[Any, Any, Any], db: Db, p: Caller, batch_id: Id
    ) -> Decided:
        done = await opening_approval.approve(db, p, batch_id, ip=client_ip(request))
        return Decided(id=done.id, status=done.status, posted=done.posted, total=done.total)

    @post(
        "/opening-balances/{batch_id:int}/reject",
        dependencies=allow(*STAFF),
        status_code=200,
        summary="Reject a waiting batch of opening balances",
        description=(
            "Any staff member of the community, the uploader too (withdrawing it); `reason` is "
            "required. Nothing is posted, and its residents may be uploaded again."
        ),
    )
    async def reject(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        batch_id: Id,
        data: JSONBody[Rejection],
    ) -> Decided:
        done = await opening_approval.reject(db, p, batch_id, data.reason, ip=client_ip(request))
        return Decided(id=done.id, status=done.status, posted=0, total=0)


ROUTES: list[ControllerRouterHandler] = [OpeningController]
