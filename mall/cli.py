"""The ``mall`` command (API.md): migrate, serve, demo, verify, backup, restore, housekeeping.

This is the one place that reaches up to build the web app.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys

from mall.settings import SettingsError, get_settings


def _migrate(_: argparse.Namespace) -> int:
    from mall.migrate import migrate

    asyncio.run(migrate())
    print("数据库已是最新 / database is up to date")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _migrate(args)
    settings = get_settings()  # create the secret key before the workers start, so they share it
    if args.workers > 1:  # each worker writes its figures where /metrics reads them all
        shared = settings.var_dir / "metrics"
        shutil.rmtree(shared, ignore_errors=True)
        shared.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    uvicorn.run(
        "web.app:create_served_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        log_config=None,  # the app's own structured log (web/logs.py) formats uvicorn's too
        access_log=False,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies or None,
        ssl_certfile=settings.tls_cert,
        ssl_keyfile=settings.tls_key,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mall.demo.load import load_demo

    _migrate(args)
    return asyncio.run(load_demo())


def _verify(_: argparse.Namespace) -> int:
    from mall.verify import run_verify

    return asyncio.run(run_verify())


def _user_create(args: argparse.Namespace) -> int:
    from mall.db import open_database
    from mall.errors import MallError
    from mall.people.users import User, create_user_unchecked

    if not args.password_stdin:
        print(
            "请用 --password-stdin 从标准输入提供密码 / pass the password on standard input with "
            "--password-stdin",
            file=sys.stderr,
        )
        return 2
    password = sys.stdin.readline().rstrip("\n")

    async def run() -> User:
        db = open_database(get_settings().database_url)
        try:
            return await create_user_unchecked(
                db, args.username, password, args.role, args.community
            )
        finally:
            await db.close()

    try:
        user = asyncio.run(run())
    except MallError as exc:
        print(f"未创建 / not created: {exc}", file=sys.stderr)
        return 1
    print(f"已创建用户 / created user {user.username} ({user.role}), id {user.id}")
    return 0


#: Files ``mall`` creates (the SQLite database and its WAL, the secret key, item pictures, the
#: folder under var/) are readable by their owner only: points, phones and names are not for the
#: other accounts of the machine.
OWNER_ONLY = 0o077


def _backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mall.backup import BackupFailed, backup

    if args.keep < 1:
        print("mall backup: --keep must be 1 or more", file=sys.stderr)
        return 2
    try:
        made = asyncio.run(backup(get_settings().database_url, Path(args.folder), args.keep))
    except BackupFailed as exc:
        print(f"备份失败 / backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"已备份并核对 / backed up and verified: {made.path} ({made.checked.summary()})")
    for old in made.removed:
        print(f"已删除旧备份 / removed an older backup: {old}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mall.backup import BackupFailed, restore

    try:
        checked = asyncio.run(
            restore(get_settings().database_url, Path(args.file), replace=args.replace)
        )
    except BackupFailed as exc:
        print(f"未恢复 / not restored: {exc}", file=sys.stderr)
        return 1
    if not checked.ok:
        print("恢复后核对发现问题 / the restored database has problems:", file=sys.stderr)
        for problem in checked.problems():
            print(f"PROBLEM {problem}", file=sys.stderr)
        return 1
    print(f"已恢复并核对 / restored and verified: {args.file} ({checked.summary()})")
    return 0


def _housekeeping(_: argparse.Namespace) -> int:
    from mall.db import open_database
    from mall.housekeeping import run

    async def go() -> int:
        url = get_settings().database_url
        db = open_database(url)
        try:
            done = await run(db, url)
        finally:
            await db.close()
        if not done.ran:
            print(
                "另一次整理正在进行，本次未做 / another housekeeping run is under way; nothing done"
            )
            return 0
        print(
            f"已整理 / housekeeping done: {done.lapsed} reservations lapsed, "
            f"{done.pay_codes} pay codes, {done.activations} activation papers, "
            f"{done.sessions} sessions and {done.counters} rate-limit counters deleted; "
            f"{done.uploads} spreadsheets kept for a preview deleted; "
            f"{done.expired} residents' expired points back to the budget; "
            f"{done.reminders} reminders written, {done.sent} messages sent"
        )
        return 0

    return asyncio.run(go())


def main(argv: list[str] | None = None) -> int:
    os.umask(OWNER_ONLY)
    os.environ.setdefault("PICCOLO_CONF", "mall.piccolo_conf")
    parser = argparse.ArgumentParser(prog="mall", description="邻里积分超市 Community Points Mall")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(
        run=_migrate
    )
    serve = sub.add_parser("serve", help="migrate, then serve the web app and the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_serve)
    sub.add_parser("demo", help="load demo data into an empty database").set_defaults(run=_demo)
    sub.add_parser("verify", help="check ledger and stock; exit 0 when clean").set_defaults(
        run=_verify
    )
    sub.add_parser(
        "housekeeping",
        help="lapse overdue reservations; return expired points to the budget; delete expired "
        "codes, old sessions, spent rate limits",
    ).set_defaults(run=_housekeeping)
    saving = sub.add_parser(
        "backup", help="copy the database into FOLDER, verify the copy, keep the newest N"
    )
    saving.add_argument("folder")
    saving.add_argument("--keep", type=int, default=7, help="copies to keep (7)")
    saving.set_defaults(run=_backup)
    back = sub.add_parser("restore", help="replace the database with a verified backup copy")
    back.add_argument("file")
    back.add_argument(
        "--replace", action="store_true", help="overwrite a database that already holds journals"
    )
    back.set_defaults(run=_restore)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="action", required=True)
    create = user.add_parser("create", help="create a user, reading the password from stdin")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=["admin", "staff", "volunteer"])
    create.add_argument("--community", help="the community's code (slug), for staff and volunteers")
    create.add_argument("--password-stdin", action="store_true", required=True)
    create.set_defaults(run=_user_create)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:
        print(f"mall: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
