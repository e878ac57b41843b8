"""The audit log of a community and the ledger check: who did what, and whether the books hold."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get

from mall.access import audit
from web.api.callers import STAFF, allow
from web.api.fields import Before, Limit, Slug
from web.deps import Caller, Db


class AuditEntry(msgspec.Struct):
    id: int
    at: datetime
    actor: str
    """The username, or empty for a resident's own action (activation)."""
    action: str
    target: str
    detail: dict[str, Any]
    ip: str


class AuditLog(msgspec.Struct):
    entries: list[AuditEntry]
    next: int | None
    """Pass as `before` for the next (older) page; null on the last page."""


class Problem(msgspec.Struct):
    check: str
    table: str
    row: int
    detail: str


class Verification(msgspec.Struct):
    ok: bool
    journals: int
    postings: int
    accounts: int
    problems: list[Problem]
    stock_levels: int = 0
    stock_movements: int = 0


class AuditController(Controller):
    tags = ["audit"]

    @get(
        "/communities/{slug:str}/audit",
        dependencies=allow(*STAFF),
        summary="A community's audit log",
        description=(
            "Staff of the community and administrators: every privileged action, newest "
            "first, with who did it, when and from which address."
        ),
    )
    async def log(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        limit: Limit = 50,
        before: Before = None,
    ) -> AuditLog:
        page = await audit.community_log(db, p, slug, limit=limit, before=before)
        return AuditLog(
            entries=[
                AuditEntry(
                    id=e.id,
                    at=e.at,
                    actor=e.actor,
                    action=e.action,
                    target=e.target,
                    detail=e.detail,
                    ip=e.ip,
                )
                for e in page.entries
            ],
            next=page.next,
        )

    @get(
        "/ledger/verify",
        dependencies=allow("admin"),
        summary="Check the ledger",
        description=(
            "Street administrators only: the same checks as `mall verify` (zero-sum "
            "journals, balances, versions, hash chains, reversals; each stock level against "
            "its movements); `ok` is true when there is no problem."
        ),
    )
    async def verify(self, request: Request[Any, Any, Any], db: Db, p: Caller) -> Verification:
        report = await audit.check_ledger(db, p)
        stock = await audit.check_stock(db, p)
        return Verification(
            ok=report.ok and stock.ok,
            journals=report.journals,
            postings=report.postings,
            accounts=report.accounts,
            # the ledger's and the catalog's problems have the same four fields
            problems=[Problem(**vars(f)) for f in (*report.problems, *stock.problems)],
            stock_levels=stock.levels,
            stock_movements=stock.movements,
        )
