"""``mall backup`` and ``mall restore``: a verified copy of the database, kept in generations.

SQLite: the online backup API copies one consistent snapshot while the service keeps serving.
PostgreSQL: ``pg_dump`` in its custom format, restored into a scratch database to check it.
A copy is written as ``….partial`` and takes its name ``mall-<UTC time>.sqlite`` (``.dump`` for
PostgreSQL) only after ``mall verify``'s checks found nothing wrong in it; then only the newest
``keep`` copies stay. A backup that cannot be checked is no backup: it is removed and reported.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from catalog import verify_stock
from ledger import verify_ledger
from mall.db import SqliteConnection, dialect_of, open_database, sqlite_path
from mall.verify import Checked, check

PREFIX = "mall-"
SUFFIX = {"sqlite": ".sqlite", "postgres": ".dump"}


class BackupFailed(Exception):
    """The copy could not be made or did not check out; the message says why, in both languages."""


@dataclass(frozen=True)
class Made:
    path: Path
    checked: Checked
    removed: list[Path]


async def check_sqlite_file(path: Path) -> Checked:
    """The checks on a SQLite copy, opened read-only so that checking leaves it as it was."""
    raw = sqlite3.connect(
        f"file:{path}?immutable=1", uri=True, detect_types=sqlite3.PARSE_DECLTYPES
    )
    raw.row_factory = sqlite3.Row
    try:
        conn = SqliteConnection(raw)
        return Checked(await verify_ledger(conn), await verify_stock(conn))
    except sqlite3.DatabaseError as exc:
        raise BackupFailed(f"不是可用的数据库副本 / not a usable database copy: {exc}") from exc
    finally:
        raw.close()


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def generations(folder: Path, dialect: str) -> list[Path]:
    """The finished copies in ``folder``, oldest first (their names sort by time)."""
    return sorted(folder.glob(f"{PREFIX}*{SUFFIX[dialect]}"))


async def backup(url: str, folder: Path, keep: int, at: datetime | None = None) -> Made:
    """Copy the database at ``url`` into ``folder``, check the copy, keep the newest ``keep``."""
    dialect = dialect_of(url)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{PREFIX}{_stamp(at or datetime.now(UTC))}{SUFFIX[dialect]}"
    partial = final.with_name(final.name + ".partial")
    try:
        if dialect == "sqlite":
            _copy_sqlite(Path(sqlite_path(url)), partial)
            checked = await check_sqlite_file(partial)
        else:
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"], url)
            checked = await _check_dump(url, partial)
        if not checked.ok:
            raise BackupFailed(
                "副本核对发现问题，未保存 / the copy has problems and was not kept:\n"
                + "\n".join(checked.problems())
            )
        partial.rename(final)
    finally:
        partial.unlink(missing_ok=True)
    kept = generations(folder, dialect)
    removed = kept[: max(0, len(kept) - keep)]
    for old in removed:
        old.unlink()
    return Made(final, checked, removed)


async def restore(url: str, file: Path, *, replace: bool) -> Checked:
    """Put the copy ``file`` in place of the database at ``url`` (the service stopped), then
    check the result. A copy that does not check out is refused before anything is touched; so
    is a database that holds journals, unless ``replace``."""
    dialect = dialect_of(url)
    if not file.is_file():
        raise BackupFailed(f"找不到备份文件 / no such backup file: {file}")
    if dialect == "sqlite":
        copy = await check_sqlite_file(file)
    else:
        copy = await _check_dump(url, file)
    if not copy.ok:
        raise BackupFailed(
            "备份文件核对未通过，未恢复 / the backup does not check out; nothing was restored:\n"
            + "\n".join(copy.problems())
        )
    if not replace and await _has_journals(url):
        raise BackupFailed(
            "数据库里已有记账记录；确认要用备份覆盖时加 --replace / the database already holds "
            "journals; add --replace to overwrite it with the backup"
        )
    if dialect == "sqlite":
        target = Path(sqlite_path(url))
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_sqlite(file, target, source_immutable=True)
    else:
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              str(file)], url)  # fmt: skip
    return await check(url)


def _copy_sqlite(source: Path, target: Path, *, source_immutable: bool = False) -> None:
    """SQLite's online backup: one consistent snapshot, taken while writers go on (WAL)."""
    if not source.is_file():
        raise BackupFailed(f"找不到数据库文件 / no database file at {source}")
    mode = "immutable=1" if source_immutable else "mode=ro"
    src = sqlite3.connect(f"file:{source}?{mode}", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        if not source_immutable:  # a copy is one self-contained file, not a file and its WAL
            dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


async def _has_journals(url: str) -> bool:
    db = open_database(url)
    try:
        async with db.connection() as conn:
            try:
                return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM ledger_journal)"))
            except Exception:  # no schema yet: nothing to overwrite
                return False
    finally:
        await db.close()


async def _check_dump(url: str, dump: Path) -> Checked:
    """Restore a PostgreSQL dump into a scratch database beside ``url``'s, check it, drop it."""
    from urllib.parse import urlsplit, urlunsplit

    import asyncpg

    scratch = f"mall_check_{secrets.token_hex(6)}"
    parts = urlsplit(url)
    scratch_url = urlunsplit(parts._replace(path=f"/{scratch}"))
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            _run(["pg_restore", "--no-owner", str(dump)], scratch_url)
            return await check(scratch_url)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    finally:
        await admin.close()


def _run(command: list[str], url: str) -> None:
    """Run a PostgreSQL client program on the database at ``url``. The password goes in the
    environment (``PGPASSWORD``), not on the command line where ``ps`` would show it."""
    from urllib.parse import unquote, urlsplit, urlunsplit

    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = unquote(parts.password)
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=f"{user}@{host}{port}")
    command = [*command, f"--dbname={urlunsplit(parts)}"]
    if shutil.which(command[0]) is None:
        raise BackupFailed(
            f"找不到 {command[0]}，请安装 PostgreSQL 客户端 / {command[0]} not found: install "
            "the PostgreSQL client (Debian: postgresql-client)"
        )
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise BackupFailed(f"{command[0]} 失败 / failed: {done.stderr.strip()}")
