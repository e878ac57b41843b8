"""Staff pages for importing a resident roster (导入居民名单): upload → preview (valid rows, and each
bad row with its number and reason) → confirm → result, and the template to fill in. Works
without JavaScript: the previewed file is kept server-side under a token (``mall.people.uploads``)
because a browser cannot send a chosen file twice; the confirmation checks every row again."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromQuery

from mall import xlsx
from mall.access import STAFF_ROLES, Principal
from mall.errors import MallError
from mall.people import roster, sheets, uploads
from web.deps import Db
from web.i18n import gettext as _
from web.pages.common import EXCEPTION_HANDLERS, FORM, form_status, message, no_store, user
from web.pages.staff import community_of
from web.render import render
from web.session import client_ip

KIND = "roster"
XLSX = xlsx.MEDIA_TYPE


def template_file(header: list[str], example: list[str], kind: str) -> bytes:
    """A template staff fill in: the header row and one example row, as .xlsx or .csv (UTF-8
    with a BOM, which Excel opens as Chinese)."""
    if kind == "csv":
        out = io.StringIO()
        csv.writer(out).writerows([header, example])
        return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")
    return xlsx.small(header, [example])


def download(data: bytes, name: str, kind: str) -> Response[Any]:
    return Response(
        data,
        media_type=XLSX if kind == "xlsx" else "text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


async def uploaded(request: Request[Any, Any, Any]) -> tuple[bytes, str, str]:
    """The file (at most one byte over the limit), its name, and the form's ``community``."""
    form = await request.form()
    found = form.get("file")
    community = form.get("community")
    data, name = b"", ""
    if isinstance(found, UploadFile):
        data, name = await found.read(sheets.MAX_BYTES + 1), found.filename or ""
    return data, name, community if isinstance(community, str) else ""


@dataclass
class ConfirmForm:
    token: str = ""
    community: str = ""


class RosterImportPages(Controller):
    path = "/staff/residents/import"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS

    def _page(
        self, request: Request[Any, Any, Any], p: Principal, slug: str, **context: Any
    ) -> Response[Any]:
        status = context.pop("status", 200)
        return no_store(
            render(
                request,
                "staff/residents_import.html",
                status_code=status,
                me=p,
                slug=slug,
                max_rows=sheets.MAX_ROWS,
                max_mb=sheets.MAX_BYTES // 2**20,
                **context,
            )
        )

    @get("")
    async def form_page(
        self, request: Request[Any, Any, Any], db: Db, community: FromQuery[str] = ""
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        return self._page(request, p, community_of(p, community))

    @get(["/template.xlsx", "/template.csv"])
    async def template(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        await user(request, db, STAFF_ROLES)
        kind = "csv" if request.scope["path"].endswith(".csv") else "xlsx"
        example = ["张晓明", "13800001111", "g1", "3", "2"]
        data = template_file(roster.TEMPLATE_HEADER, example, kind)
        return download(
            data, f"%E5%B1%85%E6%B0%91%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.{kind}", kind
        )

    @post("", request_max_body_size=2 * sheets.MAX_BYTES)
    async def preview(self, request: Request[Any, Any, Any], db: Db) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        data, name, community = await uploaded(request)
        slug = community_of(p, community)
        try:
            done = await roster.import_roster(db, p, slug, data, name, dry_run=True)
            token = "" if done.errors else await uploads.keep(db, p, slug, KIND, name, data)
        except MallError as exc:
            return self._page(request, p, slug, error=message(exc), status=form_status(exc))
        return self._page(
            request, p, slug, preview=done, errors=_errors(done), token=token, filename=name
        )

    @post("/confirm")
    async def confirm(
        self, request: Request[Any, Any, Any], db: Db, data: Annotated[ConfirmForm, FORM]
    ) -> Response[Any]:
        p = await user(request, db, STAFF_ROLES)
        slug = community_of(p, data.community)
        token = data.token
        try:
            kept = await uploads.kept(db, p, token, KIND)
            done = await roster.import_roster(
                db, p, slug, kept.data, kept.filename, dry_run=False, ip=client_ip(request)
            )
        except MallError as exc:
            return self._page(request, p, slug, error=message(exc), status=form_status(exc))
        if done.created:
            await uploads.forget(db, token)
        return self._page(
            request,
            p,
            slug,
            preview=done,
            errors=_errors(done),
            token="" if done.created else token,
            result=done.created,
        )


def _errors(done: roster.Imported) -> list[tuple[int, str]]:
    return [(e.row, _(e.message, **e.params)) for e in done.errors]


ROUTES = [RosterImportPages]
