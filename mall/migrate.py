"""Create or upgrade the schema: Piccolo's migrations of every app, in dependency order."""

from __future__ import annotations

import os


async def migrate(database_url: str | None = None) -> None:
    """Run all pending migrations against ``database_url`` (default: the settings')."""
    if database_url is not None:
        os.environ["MALL_DATABASE_URL"] = database_url
    os.environ.setdefault("PICCOLO_CONF", "mall.piccolo_conf")
    from piccolo.apps.migrations.commands.forwards import run_forwards

    response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migration failed: {response.message}")
