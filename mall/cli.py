"""The ``mall`` command (API.md): migrate, serve, demo, verify.

This is the one place that reaches up to build the web app.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from mall.settings import get_settings


def _migrate(_: argparse.Namespace) -> int:
    from mall.migrate import migrate

    asyncio.run(migrate())
    print("数据库已是最新 / database is up to date")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    _migrate(args)
    get_settings()  # create the secret key before the workers start, so they share it
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level="info",
        access_log=False,
        proxy_headers=True,
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mall.demo import load_demo

    _migrate(args)
    return asyncio.run(load_demo())


def _verify(_: argparse.Namespace) -> int:
    from mall.verify import run_verify

    return asyncio.run(run_verify())


def main(argv: list[str] | None = None) -> int:
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
    sub.add_parser("verify", help="check the ledger; exit 0 only when clean").set_defaults(
        run=_verify
    )
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
