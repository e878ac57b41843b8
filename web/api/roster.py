"""Importing a resident roster through the API (API.md "v1.1 additions — Transparency"): one
multipart upload, previewed with ``dry_run``, created only when every row is valid."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, post
from litestar.datastructures import CacheControlHeader, UploadFile
from litestar.params import QueryParameter
from litestar.types import ControllerRouterHandler

from mall.errors import N_, Invalid
from mall.people import roster, sheets
from web.api.callers import STAFF, allow
from web.api.fields import Slug
from web.deps import Caller, Db
from web.i18n import gettext as _
from web.session import client_ip

DryRun = Annotated[bool, QueryParameter(description="`true` to check the file and create nothing")]
#: room for the multipart framing, so that a file just over the limit hears why, in words
BODY_LIMIT = 2 * sheets.MAX_BYTES


class RowError(msgspec.Struct):
    row: int
    """The spreadsheet's own row number (the header is row 1)."""
    message: str


class Imported(msgspec.Struct):
    created: int
    valid: int
    """Rows that passed every check."""
    errors: list[RowError]
    more_errors: int
    """Bad rows beyond those listed."""


async def upload(request: Request[Any, Any, Any], field: str = "file") -> tuple[bytes, str]:
    """The bytes and name of the multipart field ``field`` (at most one byte over the limit, so
    that the service can say the file is too large)."""
    form = await request.form()
    found = form.get(field)
    if not isinstance(found, UploadFile):
        raise Invalid(N_("Please choose a spreadsheet file (.xlsx or .csv)."))
    return await found.read(sheets.MAX_BYTES + 1), found.filename or ""


def row_errors(errors: list[roster.RowError]) -> list[RowError]:
    return [RowError(row=e.row, message=_(e.message, **e.params)) for e in errors]


class RosterController(Controller):
    tags = ["transparency"]

    @post(
        "/communities/{slug:str}/residents/import",
        dependencies=allow(*STAFF),
        status_code=200,
        request_max_body_size=BODY_LIMIT,
        cache_control=CacheControlHeader(no_store=True),
        summary="Import a resident roster (.xlsx or .csv)",
        description=(
            "Staff of the community and administrators. Multipart, field `file`: an `.xlsx` or "
            "`.csv` (UTF-8, with or without BOM, or GB18030) whose header row names 姓名/name "
            "and optionally 电话/phone, 网格/grid (a grid's code or name), 楼栋/building, "
            "单元/unit, in any order. Each bad row is in `errors` with its own row number and "
            "the reason, and then nothing is created; `dry_run=true` creates nothing either. "
            f"A file over {sheets.MAX_BYTES // 2**20} MB, not a spreadsheet, unreadable, with "
            f"more than {sheets.MAX_ROWS} rows or without the header is `validation_error`."
        ),
    )
    async def import_roster(
        self,
        request: Request[Any, Any, Any],
        db: Db,
        p: Caller,
        slug: Slug,
        dry_run: DryRun = False,
    ) -> Imported:
        data, name = await upload(request)
        done = await roster.import_roster(
            db, p, slug, data, name, dry_run=dry_run, ip=client_ip(request)
        )
        return Imported(
            created=done.created,
            valid=done.valid,
            errors=row_errors(done.errors),
            more_errors=done.more_errors,
        )


ROUTES: list[ControllerRouterHandler] = [RosterController]
