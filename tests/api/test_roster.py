"""Importing a resident roster (API.md v1.1 Transparency): all or nothing, every bad row named by
its own row number, a dry run that creates nothing, and the files refused whole (too large, too
many rows, not a spreadsheet), in .xlsx and in the CSV encodings Excel writes."""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Sequence
from typing import Any

import xlsxwriter
from httpx import Response

from mall.db import Database
from mall.people import sheets
from tests.api.helpers import Api, problem
from tests.api.world import TARGET_PHONE, A, World

Token = Callable[[str], str]
PHONES = itertools.count(13900000000)


def phone() -> str:
    return str(next(PHONES))


def xlsx(rows: Sequence[Sequence[Any]], *, formula_at: tuple[int, int] | None = None) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write(r, c, value)
    if formula_at:
        sheet.write_formula(*formula_at, "=1+1", None, 2)
    book.close()
    return out.getvalue()


def csv_bytes(rows: Sequence[Sequence[str]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(row) for row in rows).encode(encoding)


def send(
    api: Api, token: str, data: bytes, name: str = "名单.xlsx", *, dry_run: bool = False
) -> Response:
    query = "?dry_run=true" if dry_run else ""
    return api.post(
        f"/communities/{A}/residents/import{query}", token, files={"file": (name, data)}
    )


def count_named(api: Api, names: Sequence[str]) -> int:
    async def run(db: Database) -> int:
        async with db.connection() as conn:
            marks = ", ".join("?" for _ in names)
            return int(
                await conn.fetchval(
                    f"SELECT COUNT(*) FROM mall_resident WHERE name IN ({marks})", *names
                )
            )

    return api.run(run)


def test_a_valid_roster_creates_every_resident_with_grid_building_and_unit(
    api: Api, token: Token
) -> None:
    staff = token("staff-a")
    p1, p2 = phone(), phone()
    data = xlsx(
        [
            ["备注", "单元", "电话", "姓名", "网格", "楼栋"],  # any order, an extra column
            ["新来的", "2", int(p1), "导入甲", "g1", "3"],  # a phone typed as a number
            [],  # a blank row is skipped
            [None, None, p2, "导入乙", "第一网格", None],  # the grid by its name
            [None, None, None, "导入丙", None, None],  # a name alone will do
        ]
    )
    done = send(api, staff, data)
    assert done.status_code == 200, done.text
    assert done.json() == {"created": 3, "valid": 3, "errors": [], "more_errors": 0}
    found = api.get(f"/communities/{A}/residents?q={p1}", staff).json()["residents"]
    assert [(r["name"], r["grid"]) for r in found] == [("导入甲", "g1")]
    one = api.get(f"/residents/{found[0]['id']}", staff).json()
    assert (one["building"], one["unit"], one["balance"]) == ("3", "2", 0)
    second = api.get(f"/communities/{A}/residents?q={p2}", staff).json()["residents"]
    assert second[0]["grid"] == "g1"
    audit = api.get(f"/communities/{A}/audit", staff).json()
    imports = [e for e in audit["entries"] if e["action"] == "resident.import"]
    assert len(imports) == 1 and imports[0]["detail"]["created"] == 3, imports


def test_one_bad_row_creates_nothing_and_each_bad_row_is_named(api: Api, token: Token) -> None:
    p = phone()
    data = xlsx(
        [
            ["姓名", "电话", "网格"],
            ["全对", phone(), "g1"],  # row 2
            ["", phone(), "g1"],  # row 3: no name
            ["号码错", "1380000", None],  # row 4
            ["网格错", phone(), "g9"],  # row 5
            ["已登记", TARGET_PHONE, None],  # row 6
            ["重复甲", p, None],  # row 7
            ["重复乙", p, None],  # row 8
            ["公式", None, None],  # row 9: a formula in B9
            ["等号", "=cmd|' /C calc'!A0", None],  # row 10
        ],
        formula_at=(8, 1),
    )
    done = send(api, token("staff-a"), data)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["created"] == 0 and body["valid"] == 2  # rows 2 and 7
    rows = {e["row"]: e["message"] for e in body["errors"]}
    assert sorted(rows) == [3, 4, 5, 6, 8, 9, 10], rows
    assert "姓名" in rows[3]
    assert "1380000" in rows[4]
    assert "g9" in rows[5]
    assert TARGET_PHONE in rows[6] and "已" in rows[6]
    assert "7" in rows[8]
    assert rows[9] == rows[10] == "公式不能导入"
    assert count_named(api, ["全对", "重复甲"]) == 0


def test_a_dry_run_checks_every_row_and_creates_nothing(api: Api, token: Token) -> None:
    data = csv_bytes([["name", "phone"], ["预览甲", phone()], ["预览乙", ""]])
    done = send(api, token("staff-a"), data, "roster.csv", dry_run=True)
    assert done.status_code == 200, done.text
    assert done.json() == {"created": 0, "valid": 2, "errors": [], "more_errors": 0}
    assert count_named(api, ["预览甲", "预览乙"]) == 0


def test_a_gb18030_csv_from_excel_on_chinese_windows_is_read(api: Api, token: Token) -> None:
    p = phone()
    data = csv_bytes([["姓名", "电话", "网格"], ["国标张三", p, "第一网格"]], "gb18030")
    data.decode("gb18030")
    done = send(api, token("staff-a"), data, "名单.csv")
    assert done.json() == {"created": 1, "valid": 1, "errors": [], "more_errors": 0}, done.text
    found = api.get(f"/communities/{A}/residents?q={p}", token("staff-a")).json()
    assert [r["name"] for r in found["residents"]] == ["国标张三"]


def test_a_utf8_csv_with_a_bom_is_read(api: Api, token: Token) -> None:
    data = b"\xef\xbb\xbf" + csv_bytes([["姓名", "电话"], ["带签名", phone()]])
    done = send(api, token("staff-a"), data, "roster.csv")
    assert done.json()["created"] == 1, done.text


def test_a_file_over_ten_megabytes_is_refused(api: Api, token: Token) -> None:
    data = csv_bytes([["姓名"], ["大"]]) + b"\n" * sheets.MAX_BYTES
    refused = problem(send(api, token("staff-a"), data, "big.csv"), 400, "validation_error")
    assert "10 MB" in refused["title"]


def test_a_hundred_thousand_rows_are_refused_quickly(api: Api, token: Token) -> None:
    data = xlsx([["姓名", "电话"], *([f"居民{i}", None] for i in range(100_000))])
    started = time.monotonic()
    refused = problem(send(api, token("staff-a"), data), 400, "validation_error")
    assert time.monotonic() - started < 10
    assert str(sheets.MAX_ROWS) in refused["title"]
    rows = b"\n".join([b"name"] + [b"x"] * 100_000)
    problem(send(api, token("staff-a"), rows, "big.csv"), 400, "validation_error")


def test_what_is_not_a_spreadsheet_is_refused(api: Api, token: Token) -> None:
    staff = token("staff-a")
    for name, data in (
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        ("名单.xlsx", b"PK\x03\x04 not really a zip"),
        ("名单.xlsx", xlsx([["姓名"]])[:-200]),  # cut short
        ("名单.csv", b"\x00\x01\x02binary"),
        ("名单.csv", b""),
        ("名单.csv", csv_bytes([["住址", "年龄"], ["三号楼", "70"]])),  # no 姓名 column
    ):
        problem(send(api, staff, data, name), 400, "validation_error")
    missing = api.post(f"/communities/{A}/residents/import", staff, data={"x": "1"})
    problem(missing, 400, "validation_error")


def test_another_communitys_staff_and_a_volunteer_import_nothing(
    api: Api, token: Token, world: World
) -> None:
    data = csv_bytes([["姓名"], ["越权导入"]])
    problem(send(api, token("staff-b"), data, "a.csv"), 403, "forbidden")
    problem(send(api, token("vol-a"), data, "a.csv"), 403, "forbidden")
    problem(send(api, token("res-a"), data, "a.csv"), 403, "forbidden")
    problem(send(api, "", data, "a.csv"), 401, "unauthenticated")
    assert count_named(api, ["越权导入"]) == 0
